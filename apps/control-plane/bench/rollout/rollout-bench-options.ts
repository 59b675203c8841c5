import { checkFramesPerExpression, parseBenchArguments } from '../support/bench-arguments';

/** What `npm run bench:rollout` runs; every field has a command-line option. */
export interface RolloutBenchOptions {
  /** Simulated devices, every one a target of the rollout's single 100 % phase. */
  devices: number;
  /** Installs the engine runs at once; 0: every device at once. */
  maxConcurrentInstalls: number;
  /** Seconds between a device's telemetry windows while the rollout runs. */
  telemetryIntervalSeconds: number;
  /** Emotion events per second per device while the rollout runs. */
  eventRate: number;
  /** Synthetic frames per second per device (the health gate measures this many per second). */
  fps: number;
  /** Frames each device's health gate measures on the new model (after none of warm-up). */
  gateFrames: number;
  devicesPerProcess: number;
  /** Seconds the fleet may take to connect before the rollout starts with whatever is online. */
  connectTimeoutSeconds: number;
  /** Seconds the rollout may take to end. */
  rolloutTimeoutSeconds: number;
  /** Run the control plane with `node --cpu-prof` and summarise where its CPU time went. */
  profile: boolean;
  json: boolean;
}

export const DEFAULT_ROLLOUT_BENCH_OPTIONS: RolloutBenchOptions = {
  devices: 10_000,
  maxConcurrentInstalls: 0,
  telemetryIntervalSeconds: 10,
  eventRate: 0.02,
  fps: 2,
  gateFrames: 2,
  devicesPerProcess: 2500,
  connectTimeoutSeconds: 600,
  rolloutTimeoutSeconds: 1800,
  profile: false,
  json: false,
};

export const ROLLOUT_BENCH_USAGE = `npm run bench:rollout -- [options]
  --devices N                  simulated devices, all in one 100 % rollout phase (default 10000)
  --max-concurrent-installs N  installs the rollout runs at once (default 0: every device at once)
  --telemetry-interval S       seconds between a device's telemetry windows (default 10)
  --event-rate R               emotion events per second per device (default 0.02)
  --fps N                      synthetic frames per second per device (default 2)
  --gate-frames N              frames each device's health gate measures on the new model (default 2)
  --devices-per-process N      simulated devices per simulator process (default 2500)
  --connect-timeout S          seconds the fleet may take to connect (default 600)
  --rollout-timeout S          seconds the rollout may take to end (default 1800)
  --profile                    run the control plane under node --cpu-prof and summarise its top functions
  --json                       one JSON object instead of tables
  --help                       this text`;

/** A bad command line; the message names the option and what it needs. */
export class RolloutBenchUsageError extends Error {}

/** Parses `--name value` / `--name=value` arguments over the defaults. */
export function parseRolloutBenchOptions(argv: readonly string[]): RolloutBenchOptions {
  const options = parseBenchArguments(argv, DEFAULT_ROLLOUT_BENCH_OPTIONS, {
    flags: { '--json': 'json', '--profile': 'profile' },
    numbers: {
      '--devices': { key: 'devices', integer: true, min: 1, max: 50_000 },
      '--max-concurrent-installs': { key: 'maxConcurrentInstalls', integer: true, min: 0, max: 100_000 },
      '--telemetry-interval': { key: 'telemetryIntervalSeconds', integer: false, min: 1, max: 3600 },
      '--event-rate': { key: 'eventRate', integer: false, min: 0.001, max: 1 },
      '--fps': { key: 'fps', integer: false, min: 0.5, max: 30 },
      '--gate-frames': { key: 'gateFrames', integer: true, min: 1, max: 1000 },
      '--devices-per-process': { key: 'devicesPerProcess', integer: true, min: 10, max: 10_000 },
      '--connect-timeout': { key: 'connectTimeoutSeconds', integer: false, min: 10, max: 3600 },
      '--rollout-timeout': { key: 'rolloutTimeoutSeconds', integer: false, min: 10, max: 7200 },
    },
    usageError: RolloutBenchUsageError,
  });
  checkFramesPerExpression(options, RolloutBenchUsageError);
  return options;
}
