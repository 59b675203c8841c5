import { parseCapabilityRequirements } from './capability-requirements';

describe('parseCapabilityRequirements', () => {
  it('resolves aliases and nested keys', () => {
    expect(parseCapabilityRequirements('backend=tensorrt, os.platform=linux')).toEqual({
      ok: true,
      requirements: [
        { path: ['detectorBackends'], value: 'tensorrt' },
        { path: ['os', 'platform'], value: 'linux' },
      ],
    });
  });

  it('names the bad requirement', () => {
    expect(parseCapabilityRequirements('arch=arm64,tensorrt')).toEqual({
      ok: false,
      problem: 'requirement 2 ("tensorrt") is not key=value',
    });
    expect(parseCapabilityRequirements("a'b=1")).toMatchObject({
      ok: false,
      problem: expect.stringContaining('"a\'b"'),
    });
  });
});
