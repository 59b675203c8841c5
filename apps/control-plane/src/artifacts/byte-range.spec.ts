import { interpretRange } from './byte-range';

describe('interpretRange', () => {
  it('serves everything without a header, a non-byte unit or a malformed range', () => {
    expect(interpretRange(undefined, 10)).toEqual({ kind: 'whole' });
    expect(interpretRange('items=0-3', 10)).toEqual({ kind: 'whole' });
    expect(interpretRange('bytes=0-1,4-5', 10)).toEqual({ kind: 'whole' });
    expect(interpretRange('bytes=5-2', 10)).toEqual({ kind: 'whole' });
  });

  it('clamps the end to the last byte and reads open-ended and suffix ranges', () => {
    expect(interpretRange('bytes=2-5', 10)).toEqual({ kind: 'partial', range: { start: 2, end: 5 } });
    expect(interpretRange('bytes=2-', 10)).toEqual({ kind: 'partial', range: { start: 2, end: 9 } });
    expect(interpretRange('bytes=8-100', 10)).toEqual({ kind: 'partial', range: { start: 8, end: 9 } });
    expect(interpretRange('bytes=-3', 10)).toEqual({ kind: 'partial', range: { start: 7, end: 9 } });
    expect(interpretRange('bytes=-30', 10)).toEqual({ kind: 'partial', range: { start: 0, end: 9 } });
  });

  it('refuses ranges that start past the end', () => {
    expect(interpretRange('bytes=10-', 10)).toEqual({ kind: 'unsatisfiable' });
    expect(interpretRange('bytes=-0', 10)).toEqual({ kind: 'unsatisfiable' });
  });
});
