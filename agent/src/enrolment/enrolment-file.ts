import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { deviceIdSchema } from '@emofleet/protocol';
import { readJsonFile, writeJsonAtomically } from '../slots';

export const ENROLMENT_FILE_NAME = 'enrolment.json';

export const enrolmentRecordSchema = z.object({
  deviceId: deviceIdSchema,
  name: z.string(),
  secret: z.string().min(1),
  mqttUrl: z.string().min(1),
  topicPrefix: z.string().min(1),
  /** PEM (SPKI) ed25519 key that signs model manifests, pinned at enrolment. */
  signingPublicKey: z.string().includes('BEGIN PUBLIC KEY'),
  caCertificate: z.string().nullable(),
  /** The control plane enrolled with (artifact URLs come from it). */
  server: z.string(),
  enrolledAt: z.number().int(),
});

export type EnrolmentRecord = z.infer<typeof enrolmentRecordSchema>;

export function enrolmentFilePath(dataDir: string): string {
  return path.join(dataDir, ENROLMENT_FILE_NAME);
}

/** The stored enrolment, undefined when the device is not enrolled; throws naming the file when it is damaged. */
export function readEnrolment(dataDir: string): EnrolmentRecord | undefined {
  const file = enrolmentFilePath(dataDir);
  const json = readJsonFile(file);
  if (json === undefined) return undefined;
  const parsed = enrolmentRecordSchema.safeParse(json);
  if (!parsed.success) {
    throw new Error(
      `${file}: not an enrolment record: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  return parsed.data;
}

/** Stores the enrolment with mode 0600 (it holds the device secret) in a 0700 data directory. */
export function writeEnrolment(dataDir: string, record: EnrolmentRecord): void {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  writeJsonAtomically(enrolmentFilePath(dataDir), enrolmentRecordSchema.parse(record), 0o600);
  fs.chmodSync(enrolmentFilePath(dataDir), 0o600);
}
