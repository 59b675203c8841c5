import { isValidDeviceId } from './identifiers';
import type { MessageKind } from './message-kinds';
import type { MessageOf } from './message-schemas';
import { MODEL_ID_PATTERN } from './schemas/common';
import { BOX_EPSILON, MAX_EVENTS_PER_BATCH } from './schemas/events';
import { PROTOCOL_VERSION } from './version';

/*
 * Hand-written checks of the two hot message kinds (telemetry and event batches: every device sends them all the
 * time), about an order of magnitude cheaper than running their zod schemas. They only ever accept: a message
 * they accept is one its zod schema accepts unchanged (no unknown keys to strip, nothing to transform), and
 * anything else, including every invalid message, is left to the schema, which also writes the error. The
 * property test in test/fast-validation.spec.ts holds them to that against the schemas.
 */

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Every own key of `value` is one of `required` or `optional`, and every `required` one is present. */
function hasExactly(
  value: JsonObject,
  required: readonly string[],
  optional: readonly string[] = [],
): boolean {
  let present = 0;
  for (const key of Object.keys(value)) {
    if (required.includes(key)) present += 1;
    else if (!optional.includes(key)) return false;
  }
  return present === required.length;
}

function numberIn(value: unknown, min: number, max: number): boolean {
  return typeof value === 'number' && value >= min && value <= max;
}

function nonNegativeInteger(value: unknown): value is number {
  return (
    typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= Number.MAX_SAFE_INTEGER
  );
}

function stringOfLength(value: unknown, min: number, max: number): value is string {
  return typeof value === 'string' && value.length >= min && value.length <= max;
}

function modelId(value: unknown): boolean {
  return stringOfLength(value, 1, 128) && MODEL_ID_PATTERN.test(value);
}

function header(value: JsonObject): boolean {
  return (
    value.v === PROTOCOL_VERSION && typeof value.deviceId === 'string' && isValidDeviceId(value.deviceId)
  );
}

const TELEMETRY_KEYS = [
  'v',
  'deviceId',
  'windowStart',
  'windowMs',
  'framesProcessed',
  'framesDropped',
  'fps',
  'latencyMs',
  'cpuPercent',
  'rssBytes',
  'temperaturesC',
  'gpu',
  'modelId',
  'accuracy',
  'spool',
] as const;

function latency(value: unknown): boolean {
  if (value === null) return true;
  if (!isObject(value) || !hasExactly(value, ['p50', 'p95', 'p99'])) return false;
  const { p50, p95, p99 } = value;
  return (
    numberIn(p50, 0, 3_600_000) &&
    numberIn(p95, 0, 3_600_000) &&
    numberIn(p99, 0, 3_600_000) &&
    (p50 as number) <= (p95 as number) &&
    (p95 as number) <= (p99 as number)
  );
}

function temperatures(value: unknown): boolean {
  if (!isObject(value)) return false;
  const zones = Object.keys(value);
  if (zones.length > 32) return false;
  // `__proto__` is an own key after JSON.parse, but not after copying into a new record: left to the schema.
  return zones.every(
    (zone) =>
      zone.length >= 1 && zone.length <= 64 && zone !== '__proto__' && numberIn(value[zone], -100, 200),
  );
}

function gpu(value: unknown): boolean {
  if (value === null) return true;
  if (!isObject(value) || !hasExactly(value, ['loadPercent'], ['memoryUsedBytes', 'memoryTotalBytes']))
    return false;
  return (
    numberIn(value.loadPercent, 0, 100) &&
    (value.memoryUsedBytes === undefined || nonNegativeInteger(value.memoryUsedBytes)) &&
    (value.memoryTotalBytes === undefined || nonNegativeInteger(value.memoryTotalBytes))
  );
}

function nullableFraction(value: unknown): boolean {
  return value === null || numberIn(value, 0, 1);
}

function telemetry(value: JsonObject): boolean {
  const { spool } = value;
  return (
    hasExactly(value, TELEMETRY_KEYS, ['map50']) &&
    header(value) &&
    nonNegativeInteger(value.windowStart) &&
    Number.isInteger(value.windowMs) &&
    numberIn(value.windowMs, 1, 3_600_000) &&
    nonNegativeInteger(value.framesProcessed) &&
    nonNegativeInteger(value.framesDropped) &&
    numberIn(value.fps, 0, 10_000) &&
    latency(value.latencyMs) &&
    numberIn(value.cpuPercent, 0, 100 * 4096) &&
    nonNegativeInteger(value.rssBytes) &&
    temperatures(value.temperaturesC) &&
    gpu(value.gpu) &&
    (value.modelId === null || modelId(value.modelId)) &&
    nullableFraction(value.accuracy) &&
    (value.map50 === undefined || nullableFraction(value.map50)) &&
    isObject(spool) &&
    hasExactly(spool, ['depth', 'droppedTotal']) &&
    nonNegativeInteger(spool.depth) &&
    nonNegativeInteger(spool.droppedTotal)
  );
}

const EVENT_KEYS = [
  'seq',
  'label',
  'score',
  'box',
  'startedAt',
  'durationMs',
  'frameIndex',
  'modelId',
] as const;

function box(value: unknown): boolean {
  if (!isObject(value) || !hasExactly(value, ['x', 'y', 'width', 'height'])) return false;
  const { x, y, width, height } = value;
  return (
    numberIn(x, 0, 1) &&
    numberIn(y, 0, 1) &&
    numberIn(width, 0, 1) &&
    numberIn(height, 0, 1) &&
    (x as number) + (width as number) <= 1 + BOX_EPSILON &&
    (y as number) + (height as number) <= 1 + BOX_EPSILON
  );
}

function emotionEvent(value: unknown): value is JsonObject & { seq: number } {
  return (
    isObject(value) &&
    hasExactly(value, EVENT_KEYS, ['trackId']) &&
    nonNegativeInteger(value.seq) &&
    value.seq >= 1 &&
    stringOfLength(value.label, 1, 64) &&
    numberIn(value.score, 0, 1) &&
    box(value.box) &&
    nonNegativeInteger(value.startedAt) &&
    nonNegativeInteger(value.durationMs) &&
    nonNegativeInteger(value.frameIndex) &&
    modelId(value.modelId) &&
    (value.trackId === undefined || nonNegativeInteger(value.trackId))
  );
}

function lostRange(value: unknown): boolean {
  if (!isObject(value) || !hasExactly(value, ['fromSeq', 'toSeq'])) return false;
  const { fromSeq, toSeq } = value;
  return (
    nonNegativeInteger(fromSeq) && fromSeq >= 1 && nonNegativeInteger(toSeq) && toSeq >= 1 && fromSeq <= toSeq
  );
}

function eventBatch(value: JsonObject): boolean {
  if (!hasExactly(value, ['v', 'deviceId', 'events'], ['lost']) || !header(value)) return false;
  const { events, lost } = value;
  if (!Array.isArray(events) || events.length > MAX_EVENTS_PER_BATCH) return false;
  let previousSeq = 0;
  for (const event of events as unknown[]) {
    if (!emotionEvent(event) || event.seq <= previousSeq) return false;
    previousSeq = event.seq;
  }
  if (lost === undefined) return events.length > 0;
  if (!Array.isArray(lost) || lost.length > 64 || !(lost as unknown[]).every(lostRange)) return false;
  return events.length > 0 || lost.length > 0;
}

/**
 * `parsed` as a valid message of `kind` when the hand-written check of that kind accepts it (telemetry and
 * event batches), else undefined: then the kind's zod schema decides and explains.
 */
export function acceptWithoutSchema<K extends MessageKind>(
  kind: K,
  parsed: JsonObject,
): MessageOf<K> | undefined {
  if (kind === 'telemetry' && telemetry(parsed)) return parsed as MessageOf<K>;
  if (kind === 'events' && eventBatch(parsed)) return parsed as MessageOf<K>;
  return undefined;
}
