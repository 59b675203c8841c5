/**
 * `npm run bench:protocol`: what validating the hot message kinds costs the control plane, per message. For a
 * telemetry window and an event batch it times, in the same run on the same parsed messages, the hand-written
 * check (src/fast-validation.ts) against the kind's zod schema, and the whole `decodeMessage` (UTF-8, JSON,
 * checks) against the same decode with the schema doing the validation. Best of 5 rounds of 0.5 s each.
 *   --json   one JSON object per line
 */
import { performance } from 'node:perf_hooks';
import {
  MESSAGE_SCHEMAS,
  PROTOCOL_VERSION,
  TopicScheme,
  decodeMessage,
  encodeMessage,
  type EventBatchMessage,
  type TelemetryMessage,
} from '../src';
import { acceptWithoutSchema } from '../src/fast-validation';

const DEVICE_ID = 'jetson-tx1-0042';
const NOW = 1_764_000_000_000;
const ROUNDS = 5;
const ROUND_MS = 500;

const telemetry: TelemetryMessage = {
  v: PROTOCOL_VERSION,
  deviceId: DEVICE_ID,
  windowStart: NOW,
  windowMs: 5000,
  framesProcessed: 55,
  framesDropped: 0,
  fps: 11,
  latencyMs: { p50: 88.5, p95: 97.2, p99: 104.9 },
  cpuPercent: 180.5,
  rssBytes: 412_000_000,
  temperaturesC: { 'CPU-therm': 48.5, 'GPU-therm': 46, 'AO-therm': 44.5, 'PLL-therm': 45 },
  gpu: { loadPercent: 93, memoryUsedBytes: 900_000_000, memoryTotalBytes: 4_000_000_000 },
  modelId: 'expression-yolov2-1x1@3',
  accuracy: 0.81,
  map50: 0.77,
  spool: { depth: 4, droppedTotal: 0 },
};

const LABELS = ['Happiness', 'Sadness', 'Surprise', 'Anger'];
const events: EventBatchMessage = {
  v: PROTOCOL_VERSION,
  deviceId: DEVICE_ID,
  events: Array.from({ length: 20 }, (_, index) => ({
    seq: 1000 + index,
    label: LABELS[index % LABELS.length] as string,
    score: 0.6 + (index % 4) / 10,
    box: { x: 0.1 + index / 100, y: 0.2, width: 0.3, height: 0.4 },
    startedAt: NOW + index * 700,
    durationMs: 600 + index,
    frameIndex: 1200 + index * 8,
    modelId: 'expression-yolov2-1x1@3',
    trackId: index % 3,
  })),
};

/** Nanoseconds per call of `run`, the best of ROUNDS timed rounds. */
function nanosecondsPerCall(run: () => unknown): number {
  let sink = 0;
  let best = Infinity;
  for (let round = 0; round < ROUNDS; round += 1) {
    let calls = 0;
    const start = performance.now();
    let elapsed = 0;
    while (elapsed < ROUND_MS) {
      for (let i = 0; i < 200; i += 1) if (run() !== undefined) sink += 1;
      calls += 200;
      elapsed = performance.now() - start;
    }
    best = Math.min(best, (elapsed * 1e6) / calls);
  }
  if (sink < 0) console.log(sink);
  return best;
}

function measure(kind: 'telemetry' | 'events', message: unknown): Record<string, number | string> {
  const topics = new TopicScheme('bench/emofleet/v1');
  const topic = topics.topicFor({ kind, deviceId: DEVICE_ID });
  const payload = encodeMessage(kind, message as never);
  const parsed = JSON.parse(payload.toString('utf8')) as Record<string, unknown>;
  if (acceptWithoutSchema(kind, parsed) === undefined || !MESSAGE_SCHEMAS[kind].safeParse(parsed).success) {
    throw new Error(`the ${kind} bench message is not valid`);
  }
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  const handWritten = nanosecondsPerCall(() => acceptWithoutSchema(kind, parsed));
  const schema = nanosecondsPerCall(() => MESSAGE_SCHEMAS[kind].safeParse(parsed).data);
  const decode = nanosecondsPerCall(() => (decodeMessage(topic, payload, { topics }).ok ? true : undefined));
  const decodeWithSchema = nanosecondsPerCall(() => {
    topics.parse(topic);
    return MESSAGE_SCHEMAS[kind].safeParse(JSON.parse(utf8.decode(payload))).data;
  });
  return {
    kind,
    payloadBytes: payload.length,
    handWrittenNs: Math.round(handWritten),
    schemaNs: Math.round(schema),
    checkSpeedup: Number((schema / handWritten).toFixed(1)),
    decodeNs: Math.round(decode),
    decodeWithSchemaNs: Math.round(decodeWithSchema),
    decodeSpeedup: Number((decodeWithSchema / decode).toFixed(2)),
  };
}

const rows = [measure('telemetry', telemetry), measure('events', events)];
if (process.argv.includes('--json')) {
  for (const row of rows) console.log(JSON.stringify(row));
} else {
  console.table(rows);
  console.log(
    'handWritten/schema: the check alone; decode/decodeWithSchema: topic + UTF-8 + JSON.parse + check, per message.',
  );
}
