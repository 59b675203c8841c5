import { checkFramesPerExpression, parseBenchArguments } from '../support/bench-arguments';

/** What `npm run bench:fleet` runs; every field has a command-line option. */
export interface FleetBenchOptions {
  /** Connected devices per stage, ascending (each stage adds devices to the previous one's). */
  stages: number[];
  /** Measured seconds per stage, once its devices are connected. */
  stageDurationSeconds: number;
  /** Emotion events per second per device (each event is one synthetic expression of 1/rate seconds). */
  eventRate: number;
  /** Synthetic frames per second per device. */
  fps: number;
  /** Devices (among the first stage's) whose events and telemetry are timed from broker to API. */
  latencySample: number;
  /** Simulated devices per simulator process. */
  devicesPerProcess: number;
  /** Seconds a stage may take to connect its devices before it is measured with those that made it. */
  connectTimeoutSeconds: number;
  /** Run the control plane with `node --cpu-prof` and summarise where its CPU time went. */
  profile: boolean;
  /** Print one JSON object instead of the tables. */
  json: boolean;
}

export const DEFAULT_FLEET_BENCH_OPTIONS: FleetBenchOptions = {
  stages: [1000, 5000, 10_000],
  stageDurationSeconds: 60,
  eventRate: 0.2,
  fps: 1,
  latencySample: 50,
  devicesPerProcess: 2500,
  connectTimeoutSeconds: 300,
  profile: false,
  json: false,
};

export const FLEET_BENCH_USAGE = `npm run bench:fleet -- [options]
  --stages A,B,C          connected devices per stage, ascending (default 1000,5000,10000)
  --stage-duration S      measured seconds per stage (default 60)
  --event-rate R          emotion events per second per device, at most 1 (default 0.2)
  --fps N                 synthetic frames per second per device (default 1)
  --latency-sample N      devices of the first stage timed from broker to API (default 50)
  --devices-per-process N simulated devices per simulator process (default 2500)
  --connect-timeout S     seconds a stage may take to connect its devices (default 300)
  --profile               run the control plane under node --cpu-prof and summarise its top functions
  --json                  one JSON object instead of tables
  --help                  this text`;

/** A bad command line; the message names the option and what it needs. */
export class FleetBenchUsageError extends Error {}

const MAX_DEVICES = 50_000;

/** Parses `--name value` / `--name=value` arguments over the defaults. */
export function parseFleetBenchOptions(argv: readonly string[]): FleetBenchOptions {
  const options = parseBenchArguments(argv, DEFAULT_FLEET_BENCH_OPTIONS, {
    flags: { '--json': 'json', '--profile': 'profile' },
    numbers: {
      '--stage-duration': { key: 'stageDurationSeconds', integer: false, min: 5, max: 3600 },
      '--event-rate': { key: 'eventRate', integer: false, min: 0.001, max: 1 },
      '--fps': { key: 'fps', integer: false, min: 0.5, max: 30 },
      '--latency-sample': { key: 'latencySample', integer: true, min: 1, max: 500 },
      '--devices-per-process': { key: 'devicesPerProcess', integer: true, min: 10, max: 10_000 },
      '--connect-timeout': { key: 'connectTimeoutSeconds', integer: false, min: 10, max: 3600 },
    },
    custom: {
      '--stages': (text, parsed) => {
        parsed.stages = parseStages(text);
      },
    },
    usageError: FleetBenchUsageError,
  });
  checkFramesPerExpression(options, FleetBenchUsageError);
  options.latencySample = Math.min(options.latencySample, options.stages[0] ?? 1);
  return options;
}

function parseStages(text: string): number[] {
  const stages = text.split(',').map((part) => part.trim());
  const counts = stages.map(Number);
  counts.forEach((count, index) => {
    if (!Number.isInteger(count) || count < 1 || count > MAX_DEVICES)
      throw new FleetBenchUsageError(
        `--stages: each stage must be a whole number of devices from 1 to ${MAX_DEVICES}, got ` +
          JSON.stringify(stages[index]),
      );
    if (index > 0 && count <= (counts[index - 1] ?? 0))
      throw new FleetBenchUsageError(`--stages: stages must ascend, got ${text}`);
  });
  return counts;
}
