import { type UploadLimits } from '../config/app-config';
import { type ModelFileRole } from '../database/schema';

/**
 * The files of a model version upload, by multipart field name. `classifierCfg`, `classifierWeights`,
 * `classifierNames` and `bundle` (bundle.json) make a two-stage bundle.
 */
export const MODEL_UPLOAD_FIELDS = [
  'cfg',
  'weights',
  'names',
  'evalSet',
  'calibrationSet',
  'classifierCfg',
  'classifierWeights',
  'classifierNames',
  'bundle',
] as const;
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
    case 'classifierCfg':
    case 'bundle':
      return limits.maxCfgBytes;
    case 'weights':
    case 'classifierWeights':
      return limits.maxWeightsBytes;
    case 'names':
    case 'classifierNames':
      return limits.maxNamesBytes;
    case 'evalSet':
    case 'calibrationSet':
      return limits.maxEvalSetBytes;
  }
}

/** The database role of an uploaded file. */
export function fileRoleOf(field: ModelUploadField): ModelFileRole {
  switch (field) {
    case 'evalSet':
      return 'eval-set';
    case 'calibrationSet':
      return 'calibration-set';
    case 'classifierCfg':
      return 'classifier-cfg';
    case 'classifierWeights':
      return 'classifier-weights';
    case 'classifierNames':
      return 'classifier-names';
    case 'bundle':
      return 'bundle-description';
    default:
      return field;
  }
}
