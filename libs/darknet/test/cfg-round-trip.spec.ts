import fc from 'fast-check';
import { parseCfg, serialiseCfg } from '../src';
import { withoutPositions } from './support/normalise';
import { randomCfgArbitrary } from './support/random-cfg';

describe('cfg parse -> serialise -> parse', () => {
  it('gives the same network for random valid cfgs', () => {
    fc.assert(
      fc.property(randomCfgArbitrary({ openCvCompatible: false }), (text) => {
        const parsed = parseCfg(text, 'random.cfg');
        const serialised = serialiseCfg(parsed);
        const reparsed = parseCfg(serialised, 'serialised.cfg');
        expect(withoutPositions(reparsed)).toEqual(withoutPositions(parsed));
        expect(serialiseCfg(reparsed)).toBe(serialised);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps training-only keys', () => {
    const text =
      '[net]\nwidth=8\nheight=8\nchannels=3\nlearning_rate=0.01\n\n[region]\nanchors=1,1\nclasses=1\ncoords=4\nnum=1\njitter=.3\n';
    const withHead = text.replace(
      '[region]',
      '[convolutional]\nfilters=6\nsize=1\nactivation=linear\n\n[region]',
    );
    const serialised = serialiseCfg(parseCfg(withHead, 'head.cfg'));
    expect(serialised).toContain('learning_rate=0.01');
    expect(serialised).toContain('jitter=.3');
  });
});
