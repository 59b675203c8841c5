import {
  DEFAULT_FLEET_BENCH_OPTIONS,
  FleetBenchUsageError,
  parseFleetBenchOptions,
} from './fleet-bench-options';

describe('bench:fleet options', () => {
  it('ramps 1,000 → 5,000 → 10,000 devices by default', () => {
    expect(parseFleetBenchOptions([])).toEqual(DEFAULT_FLEET_BENCH_OPTIONS);
    expect(DEFAULT_FLEET_BENCH_OPTIONS.stages).toEqual([1000, 5000, 10_000]);
  });

  it('reads stages, durations, rates and flags in both spellings', () => {
    const options = parseFleetBenchOptions([
      '--stages',
      '100, 300',
      '--stage-duration=15',
      '--event-rate',
      '0.1',
      '--devices-per-process=200',
      '--profile',
      '--json',
    ]);
    expect(options).toMatchObject({
      stages: [100, 300],
      stageDurationSeconds: 15,
      eventRate: 0.1,
      devicesPerProcess: 200,
      profile: true,
      json: true,
    });
  });

  it('keeps the latency sample within the first stage', () => {
    expect(parseFleetBenchOptions(['--stages', '20,40']).latencySample).toBe(20);
  });

  it.each([
    [['--stages', '5000,1000'], /--stages: stages must ascend, got 5000,1000/],
    [['--stages', '1000,abc'], /--stages: each stage must be a whole number of devices .* got "abc"/],
    [['--stage-duration', '2'], /--stage-duration: must be from 5 to 3600, got 2/],
    [['--event-rate', '1', '--fps', '1'], /needs at least 2 frames/],
    [['--devices'], /unknown option "--devices"/],
    [['--stages'], /--stages: needs a value/],
  ])('rejects %j naming the option', (argv, message) => {
    expect(() => parseFleetBenchOptions(argv)).toThrow(FleetBenchUsageError);
    expect(() => parseFleetBenchOptions(argv)).toThrow(message);
  });
});
