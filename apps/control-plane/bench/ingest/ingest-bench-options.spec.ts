import {
  DEFAULT_INGEST_BENCH_OPTIONS,
  IngestBenchUsageError,
  parseIngestBenchOptions,
} from './ingest-bench-options';

describe('bench:ingest command line', () => {
  it('defaults to the issue: 2,000 devices for 60 s, 1M events for the query phase', () => {
    expect(parseIngestBenchOptions([])).toEqual(DEFAULT_INGEST_BENCH_OPTIONS);
    expect(DEFAULT_INGEST_BENCH_OPTIONS).toMatchObject({
      devices: 2000,
      durationSeconds: 60,
      eventsFill: 1_000_000,
    });
  });

  it('reads --name value and --name=value', () => {
    expect(
      parseIngestBenchOptions([
        '--devices',
        '200',
        '--duration=15',
        '--event-rate',
        '0.5',
        '--events-fill=0',
        '--json',
      ]),
    ).toMatchObject({ devices: 200, durationSeconds: 15, eventRate: 0.5, eventsFill: 0, json: true });
  });

  it('never samples more devices than there are', () => {
    expect(parseIngestBenchOptions(['--devices', '10']).latencySample).toBe(10);
  });

  it.each([
    [['--device', '5'], 'unknown option "--device"'],
    [['--devices'], '--devices: needs a value'],
    [['--devices', '1.5'], '--devices: must be a whole number, got "1.5"'],
    [['--duration', 'soon'], '--duration: must be a number, got "soon"'],
    [['--event-rate', '2'], '--event-rate: must be from 0.001 to 1, got 2'],
    [['--event-rate', '1', '--fps', '1'], 'needs at least 2 frames'],
  ])('rejects %j naming the option', (argv, message) => {
    expect(() => parseIngestBenchOptions(argv)).toThrow(IngestBenchUsageError);
    expect(() => parseIngestBenchOptions(argv)).toThrow(message);
  });
});
