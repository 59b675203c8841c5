import { type UploadLimits } from '../config/app-config';

/** The files of a model version upload, by multipart field name. */
export const MODEL_UPLOAD_FIELDS = ['cfg', 'weights', 'names', 'evalSet'] as const;
export type ModelUploadField = (typeof MODEL_UPLOAD_FIELDS)[number];

export interface ReceivedFile {
  field: ModelUploadField;
  fileName: string;
  sha256: string;
  sizeBytes: number;
  /** Whether this upload wrote the blob (false: the store already had the bytes). */
  created: boolean;
}

export type ReceivedFiles = Partial<Record<ModelUploadField, ReceivedFile>>;

export function isModelUploadField(name: string): name is ModelUploadField {
  return (MODEL_UPLOAD_FIELDS as readonly string[]).includes(name);
}

export function sizeLimitFor(field: ModelUploadField, limits: UploadLimits): number {
  switch (field) {
    case 'cfg':
      return limits.maxCfgBytes;
    case 'weights':
      return limits.maxWeightsBytes;
    case 'names':
      return limits.maxNamesBytes;
    case 'evalSet':
      return limits.maxEvalSetBytes;
  }
}
