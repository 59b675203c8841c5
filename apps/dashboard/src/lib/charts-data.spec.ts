import { alignSeries } from './aligned-series';
import { histogram } from './histogram';

describe('histogram', () => {
  it('counts values in nice equal bins from 0 and puts the maximum in the last bin', () => {
    const result = histogram([0, 0.4, 1.2, 3.9, 4, 11.5]);
    expect(result.binWidth).toBe(0.5);
    expect(result.starts[0]).toBe(0);
    expect(result.counts.reduce((sum, count) => sum + count, 0)).toBe(6);
    expect(result.counts[0]).toBe(2);
    expect(result.counts[result.counts.length - 1]).toBe(1);
    expect(result.counts.length).toBeLessThanOrEqual(24);
  });

  it('widens the bins for large values and is empty without values', () => {
    expect(histogram([1000]).binWidth).toBe(50);
    expect(histogram([])).toEqual({ starts: [], binWidth: 1, counts: [] });
  });
});

describe('aligned series', () => {
  const rows = [
    { at: '2026-01-01T00:00:10Z', group: 'lab', fps: 10 },
    { at: '2026-01-01T00:00:00Z', group: 'lab', fps: 9 },
    { at: '2026-01-01T00:00:10Z', group: 'hall', fps: 4 },
    { at: '2026-01-01T00:00:10Z', group: 'hall', fps: 1 },
    { at: '2026-01-01T00:00:20Z', group: 'attic', fps: null },
  ];
  const read = {
    time: (row: (typeof rows)[number]) => row.at,
    name: (row: (typeof rows)[number]) => row.group,
    value: (row: (typeof rows)[number]) => row.fps,
  };

  it('puts every series on one ascending time axis in seconds, gaps as null, same-cell rows added', () => {
    const aligned = alignSeries(rows, read);
    expect(aligned.x).toEqual([1767225600, 1767225610, 1767225620]);
    expect(aligned.names).toEqual(['attic', 'hall', 'lab']);
    expect(aligned.values).toEqual([
      [null, null, null],
      [null, 5, null],
      [9, 10, null],
    ]);
  });

  it('orders the named series first', () => {
    expect(alignSeries(rows, read, ['lab', 'nowhere']).names).toEqual(['lab', 'attic', 'hall']);
  });
});
