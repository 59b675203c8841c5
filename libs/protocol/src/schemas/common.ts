import { z } from 'zod';
import { PROTOCOL_VERSION } from '../version';

export const protocolVersionSchema = z.literal(PROTOCOL_VERSION);

/** Milliseconds since the Unix epoch (UTC). */
export const epochMillisSchema = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

export const nonNegativeIntegerSchema = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

/** Session and event sequence numbers: non-negative safe integers that never wrap. */
export const sequenceNumberSchema = nonNegativeIntegerSchema;

export const byteCountSchema = nonNegativeIntegerSchema;

/** A model id as the control plane assigns it (same character rules as device ids). */
export const modelIdSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._:@-]*$/,
    'model id may contain only letters, digits, ".", "_", ":", "@", "-"',
  );

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
