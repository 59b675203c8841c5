import { parseTagSelector } from './tag-selector';

describe('parseTagSelector', () => {
  it('parses equality, inequality, existence and absence', () => {
    expect(parseTagSelector('site=lab,camera!=csi,gpu,!retired')).toEqual({
      ok: true,
      requirements: [
        { op: 'equals', key: 'site', value: 'lab' },
        { op: 'not-equals', key: 'camera', value: 'csi' },
        { op: 'exists', key: 'gpu' },
        { op: 'not-exists', key: 'retired' },
      ],
    });
  });

  it('allows an empty value and spaces around requirements', () => {
    expect(parseTagSelector(' site= , zone=eu-1 ')).toEqual({
      ok: true,
      requirements: [
        { op: 'equals', key: 'site', value: '' },
        { op: 'equals', key: 'zone', value: 'eu-1' },
      ],
    });
  });

  it('names the bad requirement', () => {
    expect(parseTagSelector('site=lab,=x')).toEqual({
      ok: false,
      problem: 'requirement 2 ("=x"): "=x" is not a tag key',
    });
    expect(parseTagSelector('site=lab,,zone=a')).toMatchObject({
      ok: false,
      problem: expect.stringContaining('requirement 2'),
    });
    expect(parseTagSelector('site=a b')).toMatchObject({
      ok: false,
      problem: expect.stringContaining('"a b" is not a tag value'),
    });
  });
});
