import { type MessageKind, type MessageOf, type TopicAddress, PROTOCOL_VERSION } from '../src';

export const DEVICE_ID = 'jetson-tx1-0042';
export const JOB_ID = 'job-7f3a';
const NOW = 1_764_000_000_000;

/** One valid message of every kind; tests derive malformed variants from these. */
export const VALID_MESSAGES: { [K in MessageKind]: MessageOf<K> } = {
  birth: {
    v: PROTOCOL_VERSION,
    deviceId: DEVICE_ID,
    bdSeq: 7,
    timestamp: NOW,
    agentVersion: '0.1.0',
    capabilities: {
      arch: 'arm64',
      os: { platform: 'linux', release: '4.9.253-tegra', distribution: 'Ubuntu 18.04.6 LTS' },
      jetsonModel: 'NVIDIA Jetson TX1',
      l4tVersion: '32.7.1',
      jetpackVersion: '4.6.1',
      tensorrtVersion: '8.2.1',
      cudaVersion: '10.2.300',
      cpuCores: 4,
      memoryBytes: 4_294_967_296,
      detectorBackends: ['tensorrt', 'opencv-dnn'],
      simulated: false,
    },
    runningModel: { modelId: 'fer-yolov3-tiny', version: '3' },
  },
  state: { v: PROTOCOL_VERSION, deviceId: DEVICE_ID, state: 'online', bdSeq: 7, timestamp: NOW },
  desired: {
    v: PROTOCOL_VERSION,
    deviceId: DEVICE_ID,
    desiredVersion: 12,
    issuedAt: NOW,
    model: {
      modelId: 'fer-yolov3-tiny',
      version: '4',
      format: 'darknet-bundle',
      sha256: 'a'.repeat(64),
      sizeBytes: 35_000_000,
      artifactUrl: 'http://control-plane:3000/artifacts/sha256/' + 'a'.repeat(64),
      signature: 'A'.repeat(86) + '==',
    },
    healthCheck: { warmupFrames: 20, measureFrames: 200, minFps: 8, minAccuracy: 0.7 },
    rolloutId: 'rollout-19',
  },
  'job-notify-next': {
    v: PROTOCOL_VERSION,
    deviceId: DEVICE_ID,
    timestamp: NOW,
    execution: {
      jobId: JOB_ID,
      status: 'QUEUED',
      versionNumber: 1,
      queuedAt: NOW,
      document: { operation: 'apply-desired-state', parameters: { desiredVersion: 12 } },
    },
  },
  'job-update': {
    v: PROTOCOL_VERSION,
    deviceId: DEVICE_ID,
    jobId: JOB_ID,
    status: 'IN_PROGRESS',
    expectedVersion: 1,
    statusDetails: { step: 'DOWNLOADING', progress: { bytesDone: 1000, bytesTotal: 35_000_000 } },
    timestamp: NOW,
  },
  'job-update-response': {
    v: PROTOCOL_VERSION,
    deviceId: DEVICE_ID,
    jobId: JOB_ID,
    accepted: true,
    status: 'IN_PROGRESS',
    versionNumber: 2,
    timestamp: NOW,
  },
  telemetry: {
    v: PROTOCOL_VERSION,
    deviceId: DEVICE_ID,
    windowStart: NOW,
    windowMs: 5000,
    framesProcessed: 60,
    framesDropped: 3,
    fps: 12,
    latencyMs: { p50: 70, p95: 90, p99: 110 },
    cpuPercent: 85.5,
    rssBytes: 180_000_000,
    temperaturesC: { 'CPU-therm': 48.5, 'GPU-therm': 46 },
    gpu: { loadPercent: 93, memoryUsedBytes: 900_000_000 },
    modelId: 'fer-yolov3-tiny',
    accuracy: 0.81,
    spool: { depth: 4, droppedTotal: 0 },
  },
  events: {
    v: PROTOCOL_VERSION,
    deviceId: DEVICE_ID,
    events: [
      {
        seq: 41,
        label: 'happy',
        score: 0.92,
        box: { x: 0.1, y: 0.2, width: 0.3, height: 0.4 },
        startedAt: NOW,
        durationMs: 10_000,
        frameIndex: 1200,
        modelId: 'fer-yolov3-tiny',
        trackId: 3,
      },
      {
        seq: 42,
        label: 'neutral',
        score: 0.6,
        box: { x: 0.5, y: 0.5, width: 0.5, height: 0.5 },
        startedAt: NOW + 500,
        durationMs: 0,
        frameIndex: 1215,
        modelId: 'fer-yolov3-tiny',
      },
    ],
  },
  'events-ack': { v: PROTOCOL_VERSION, deviceId: DEVICE_ID, highestContiguousSeq: 42, timestamp: NOW },
};

export function addressOf(kind: MessageKind, deviceId = DEVICE_ID): TopicAddress {
  return kind === 'job-update' || kind === 'job-update-response'
    ? { kind, deviceId, jobId: JOB_ID }
    : { kind, deviceId };
}

/** A deep copy of the valid message of `kind` as plain JSON, for mutation. */
export function validJson(kind: MessageKind): Record<string, unknown> {
  return JSON.parse(JSON.stringify(VALID_MESSAGES[kind])) as Record<string, unknown>;
}

/** Sets `path` (e.g. `['events', 0, 'score']`) in a JSON object to `value`, or deletes it when `value` is `DELETE`. */
export const DELETE = Symbol('delete');
export function withField(
  json: Record<string, unknown>,
  path: readonly (string | number)[],
  value: unknown,
): Record<string, unknown> {
  const copy = JSON.parse(JSON.stringify(json)) as Record<string, unknown>;
  let node: Record<string | number, unknown> = copy;
  path.slice(0, -1).forEach((key) => {
    node = node[key] as Record<string | number, unknown>;
  });
  const last = path[path.length - 1] as string | number;
  if (value === DELETE) delete node[last];
  else node[last] = value;
  return copy;
}

/** Replaces the value at a random path of `json` (objects and arrays, any depth) with `replacement`. */
export function mutateAt(json: unknown, choices: readonly number[], replacement: unknown): unknown {
  if (typeof json !== 'object' || json === null || choices.length === 0) return replacement;
  const [choice = 0, ...rest] = choices;
  if (Array.isArray(json)) {
    if (json.length === 0) return replacement;
    const index = choice % json.length;
    return json.map((item: unknown, i) => (i === index ? mutateAt(item, rest, replacement) : item));
  }
  const keys = Object.keys(json);
  if (keys.length === 0) return replacement;
  const key = keys[choice % keys.length] as string;
  return { ...json, [key]: mutateAt((json as Record<string, unknown>)[key], rest, replacement) };
}

/** `value`, or a thrown error naming what the fixture was expected to contain. */
export function defined<T>(value: T | undefined | null, what: string): T {
  if (value === undefined || value === null) throw new Error(`fixture has no ${what}`);
  return value;
}
