import { z } from 'zod';
import { deviceIdSchema } from '../identifiers';
import { epochMillisSchema, protocolVersionSchema, sequenceNumberSchema } from './common';

export const connectionStateSchema = z.enum(['online', 'offline']);

/**
 * Retained connection state. `online` follows the birth; `offline` is published by the agent on a clean
 * shutdown, and by the broker as the last will when the connection dies. Both carry the session's `bdSeq`, so a
 * receiver ignores an `offline` whose `bdSeq` is not the current session's (a stale will).
 *
 * In a last will, `timestamp` is when the session started (the will is fixed at connect time), not when the
 * device went away; receivers take the time of going offline from when they receive the message.
 */
export const stateMessageSchema = z.object({
  v: protocolVersionSchema,
  deviceId: deviceIdSchema,
  state: connectionStateSchema,
  bdSeq: sequenceNumberSchema,
  timestamp: epochMillisSchema,
});

export type ConnectionState = z.infer<typeof connectionStateSchema>;
export type StateMessage = z.infer<typeof stateMessageSchema>;
