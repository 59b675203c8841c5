import { z } from 'zod';

/** Longest device or job id. Device ids are MQTT client ids and usernames too, and brokers store them often. */
export const MAX_IDENTIFIER_LENGTH = 64;

/**
 * Letters, digits and `.`, `_`, `:`, `-`, starting with a letter or digit. This excludes the MQTT wildcards `+`
 * and `#`, the level separator `/`, `$` (reserved for broker topics), whitespace, NUL and every character that
 * needs escaping in a Mosquitto ACL `%u` pattern or a URL path.
 */
const IDENTIFIER_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;

/** Why `value` is not a valid device or job id, or `undefined` when it is valid. */
export function identifierProblem(value: string): string | undefined {
  if (value.length === 0) return 'is empty';
  if (value.length > MAX_IDENTIFIER_LENGTH) {
    return `is ${value.length} characters long (at most ${MAX_IDENTIFIER_LENGTH})`;
  }
  if (!IDENTIFIER_PATTERN.test(value)) {
    return 'may contain only letters, digits, ".", "_", ":" and "-", and must start with a letter or digit';
  }
  return undefined;
}

export function isValidDeviceId(value: string): boolean {
  return identifierProblem(value) === undefined;
}

export const isValidJobId = isValidDeviceId;

/** Throws a `RangeError` naming the problem when `deviceId` cannot be used in a topic or as a client id. */
export function assertValidDeviceId(deviceId: string): void {
  const problem = identifierProblem(deviceId);
  if (problem !== undefined) throw new RangeError(`Device id ${JSON.stringify(deviceId)} ${problem}`);
}

export function assertValidJobId(jobId: string): void {
  const problem = identifierProblem(jobId);
  if (problem !== undefined) throw new RangeError(`Job id ${JSON.stringify(jobId)} ${problem}`);
}

/** A string that follows the identifier rules; `what` names it in the message. */
export const identifierSchema = (what: string) =>
  z.string().superRefine((value, ctx) => {
    const problem = identifierProblem(value);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: `${what} ${problem}` });
  });

export const deviceIdSchema = identifierSchema('device id');
export const jobIdSchema = identifierSchema('job id');
