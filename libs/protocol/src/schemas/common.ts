import { z } from 'zod';
import { PROTOCOL_VERSION } from '../version';

export const protocolVersionSchema = z.literal(PROTOCOL_VERSION);

/** Milliseconds since the Unix epoch (UTC). */
export const epochMillisSchema = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

export const nonNegativeIntegerSchema = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

/** Session and event sequence numbers: non-negative safe integers that never wrap. */
export const sequenceNumberSchema = nonNegativeIntegerSchema;

export const byteCountSchema = nonNegativeIntegerSchema;

/** The characters of a model id. */
export const MODEL_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:@-]*$/;

/** A model id as the control plane assigns it (same character rules as device ids). */
export const modelIdSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(MODEL_ID_PATTERN, 'model id may contain only letters, digits, ".", "_", ":", "@", "-"');

/** A software version such as `4.6.1`, `8.2.1-1+cuda10.2` or `10.2.300`. */
export const versionStringSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(
    /^[0-9A-Za-z][0-9A-Za-z.+~_-]*$/,
    'version may contain only letters, digits, ".", "+", "~", "_", "-"',
  );

/** Short free text meant for humans (reasons, descriptions). */
export const humanTextSchema = z.string().min(1).max(1024);

/** A finite number within [min, max]; JSON has no NaN or Infinity, this also refuses them from encoders. */
export const boundedNumber = (min: number, max: number) => z.number().min(min).max(max);

export const fractionSchema = boundedNumber(0, 1);

/** Node 16 has no `URL.canParse`. */
function isHttpUrl(value: string): boolean {
  if (!/^https?:\/\/\S+$/.test(value)) return false;
  try {
    new URL(value);
    return true;
  } catch {
    return false;
  }
}

/** An absolute http(s) URL of at most 2048 characters. */
export const httpUrlSchema = z.string().max(2048).refine(isHttpUrl, 'must be an http(s) URL');

/** Lower-case hex SHA-256 of a file. */
export const sha256Schema = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex digits');
