import { checkFramesPerExpression, parseBenchArguments } from '../support/bench-arguments';

/** What `npm run bench:ingest` runs; every field has a command-line option. */
export interface IngestBenchOptions {
  /** Simulated devices. */
  devices: number;
  /** Seconds of measured ingestion (after every device is connected). */
  durationSeconds: number;
  /** Emotion events per second per device (each event is one synthetic expression of 1/rate seconds). */
  eventRate: number;
  /** Rows in `emotion_events` for the query phase (filled with synthetic rows); 0 skips the fill. */
  eventsFill: number;
  /** Synthetic frames per second per device. */
  fps: number;
  /** Devices whose events and telemetry are timed from broker to API. */
  latencySample: number;
  /** Requests per query shape, in each query phase. */
  queriesPerShape: number;
  /** Seconds to wait after the measurement for every event to be acknowledged. */
  drainTimeoutSeconds: number;
  /** Print one JSON object instead of the tables. */
  json: boolean;
}

export const DEFAULT_INGEST_BENCH_OPTIONS: IngestBenchOptions = {
  devices: 2000,
  durationSeconds: 60,
  eventRate: 0.2,
  eventsFill: 1_000_000,
  fps: 2,
  latencySample: 50,
  queriesPerShape: 40,
  drainTimeoutSeconds: 120,
  json: false,
};

export const INGEST_BENCH_USAGE = `npm run bench:ingest -- [options]
  --devices N          simulated devices (default 2000)
  --duration S         measured seconds of ingestion (default 60)
  --event-rate R       emotion events per second per device, at most 1 (default 0.2)
  --events-fill N      rows in emotion_events for the query phase, synthetic fill (default 1000000; 0 skips)
  --fps N              synthetic frames per second per device (default 2)
  --latency-sample N   devices timed from broker to API (default 50, at most 500)
  --queries N          requests per query shape (default 40)
  --drain-timeout S    seconds to wait for every event to be acknowledged (default 120)
  --json               one JSON object instead of tables`;

/** A bad command line; the message names the option and what it needs. */
export class IngestBenchUsageError extends Error {}

/** Parses `--name value` / `--name=value` arguments over the defaults. */
export function parseIngestBenchOptions(argv: readonly string[]): IngestBenchOptions {
  const options = parseBenchArguments(argv, DEFAULT_INGEST_BENCH_OPTIONS, {
    flags: { '--json': 'json' },
    numbers: {
      '--devices': { key: 'devices', integer: true, min: 1, max: 20_000 },
      '--duration': { key: 'durationSeconds', integer: false, min: 1, max: 3600 },
      '--event-rate': { key: 'eventRate', integer: false, min: 0.001, max: 1 },
      '--events-fill': { key: 'eventsFill', integer: true, min: 0, max: 100_000_000 },
      '--fps': { key: 'fps', integer: false, min: 0.5, max: 30 },
      '--latency-sample': { key: 'latencySample', integer: true, min: 1, max: 500 },
      '--queries': { key: 'queriesPerShape', integer: true, min: 1, max: 10_000 },
      '--drain-timeout': { key: 'drainTimeoutSeconds', integer: false, min: 1, max: 3600 },
    },
    usageError: IngestBenchUsageError,
  });
  checkFramesPerExpression(options, IngestBenchUsageError);
  options.latencySample = Math.min(options.latencySample, options.devices);
  return options;
}
