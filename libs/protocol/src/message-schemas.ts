import { type z } from 'zod';
import { type MessageKind } from './message-kinds';
import { birthMessageSchema } from './schemas/birth';
import { desiredStateMessageSchema } from './schemas/desired-state';
import { eventAckMessageSchema, eventBatchMessageSchema } from './schemas/events';
import {
  jobNotifyNextMessageSchema,
  jobUpdateMessageSchema,
  jobUpdateResponseMessageSchema,
} from './schemas/jobs';
import { stateMessageSchema } from './schemas/state';
import { telemetryMessageSchema } from './schemas/telemetry';

/** The payload schema of every message kind. */
export const MESSAGE_SCHEMAS = {
  birth: birthMessageSchema,
  state: stateMessageSchema,
  desired: desiredStateMessageSchema,
  'job-notify-next': jobNotifyNextMessageSchema,
  'job-update': jobUpdateMessageSchema,
  'job-update-response': jobUpdateResponseMessageSchema,
  telemetry: telemetryMessageSchema,
  events: eventBatchMessageSchema,
  'events-ack': eventAckMessageSchema,
} as const satisfies Record<MessageKind, z.ZodType>;

/** The validated message type of a kind, e.g. `MessageOf<'birth'>` is `BirthMessage`. */
export type MessageOf<K extends MessageKind> = z.infer<(typeof MESSAGE_SCHEMAS)[K]>;

/** A validated message together with its kind, narrowed by `kind`. */
export type AnyMessage = { [K in MessageKind]: { kind: K; message: MessageOf<K> } }[MessageKind];
