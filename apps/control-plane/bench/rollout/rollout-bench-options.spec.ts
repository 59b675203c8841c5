import {
  DEFAULT_ROLLOUT_BENCH_OPTIONS,
  parseRolloutBenchOptions,
  RolloutBenchUsageError,
} from './rollout-bench-options';

describe('bench:rollout options', () => {
  it('rolls out to 10,000 devices at once by default', () => {
    expect(parseRolloutBenchOptions([])).toEqual(DEFAULT_ROLLOUT_BENCH_OPTIONS);
    expect(DEFAULT_ROLLOUT_BENCH_OPTIONS).toMatchObject({ devices: 10_000, maxConcurrentInstalls: 0 });
  });

  it('reads counts, intervals and flags in both spellings', () => {
    expect(
      parseRolloutBenchOptions([
        '--devices',
        '500',
        '--max-concurrent-installs=100',
        '--telemetry-interval',
        '1',
        '--gate-frames=5',
        '--profile',
        '--json',
      ]),
    ).toMatchObject({
      devices: 500,
      maxConcurrentInstalls: 100,
      telemetryIntervalSeconds: 1,
      gateFrames: 5,
      profile: true,
      json: true,
    });
  });

  it.each([
    [['--devices', '0'], /--devices: must be from 1 to 50000, got 0/],
    [['--devices', '1.5'], /--devices: must be a whole number, got "1.5"/],
    [['--devices', ''], /--devices: must be a whole number, got ""/],
    [['--telemetry-interval'], /--telemetry-interval: needs a value/],
    [['--event-rate', '1', '--fps', '1'], /needs at least 2 frames/],
    [['--stages', '100'], /unknown option "--stages"/],
  ])('rejects %j naming the option', (argv, message) => {
    expect(() => parseRolloutBenchOptions(argv)).toThrow(RolloutBenchUsageError);
    expect(() => parseRolloutBenchOptions(argv)).toThrow(message);
  });
});
