import fc from 'fast-check';
import { CfgError, parseCfg, randomWeights, readWeights, serialiseWeights, WeightsError } from '../src';
import { randomCfgArbitrary } from './support/random-cfg';

/**
 * The cfg and weights readers take files from outside (uploads, server paths): for any input they either
 * succeed or throw their own error naming the file (and, for cfg, the line); never a TypeError, a RangeError
 * from a typed array, a hang or an out-of-memory allocation.
 */

const RUNS = 1000;

/**
 * Runs `read`; any error must be an instance of `errorType` whose message starts with `file`. Answers whether
 * `read` refused the input.
 */
function expectOwnError(
  read: () => unknown,
  errorType: typeof CfgError | typeof WeightsError,
  file: string,
): boolean {
  try {
    read();
    return false;
  } catch (error) {
    if (!(error instanceof errorType)) throw error;
    expect(error.message.startsWith(`${file}:`)).toBe(true);
    return true;
  }
}

/** A valid cfg with one line replaced, inserted or removed, or the text cut short. */
const damagedCfg = fc
  .tuple(
    randomCfgArbitrary({ openCvCompatible: false }),
    fc.nat(),
    fc.oneof(
      fc.constant(null),
      fc.string({ maxLength: 30 }),
      fc.stringMatching(/^[a-z_]{1,12}=[-0-9a-z.,]{0,12}$/),
      fc.stringMatching(/^\[[a-z_]{0,14}\]?$/),
      fc.constantFrom(
        'filters=-1',
        'size=0',
        'stride=0',
        'width=0',
        'groups=7',
        'layers=-99',
        'from=5',
        'filters=1e9',
      ),
    ),
    fc.constantFrom('insert', 'replace', 'truncate'),
  )
  .map(([text, at, line, how]) => {
    if (how === 'truncate') return text.slice(0, at % (text.length + 1));
    const lines = text.split('\n');
    const index = at % lines.length;
    const replacement = line === null ? [] : [line];
    return [
      ...lines.slice(0, index),
      ...replacement,
      ...lines.slice(index + (how === 'replace' ? 1 : 0)),
    ].join('\n');
  });

describe('cfg and weights readers on malformed input', () => {
  it('parseCfg throws only a CfgError naming the file for any text', () => {
    let refused = 0;
    fc.assert(
      fc.property(fc.string({ maxLength: 400 }), (text) => {
        if (expectOwnError(() => parseCfg(text, 'fuzz.cfg'), CfgError, 'fuzz.cfg')) refused += 1;
      }),
      { numRuns: RUNS },
    );
    expect(refused).toBeGreaterThan(RUNS / 2);
  });

  it('parseCfg throws only a CfgError naming the file for damaged valid cfgs', () => {
    let refused = 0;
    fc.assert(
      fc.property(damagedCfg, (text) => {
        if (expectOwnError(() => parseCfg(text, 'damaged.cfg'), CfgError, 'damaged.cfg')) refused += 1;
      }),
      { numRuns: RUNS },
    );
    // Some damage leaves a valid network (a comment, a dropped optional key); most does not.
    expect(refused).toBeGreaterThan(RUNS / 4);
  });

  it('readWeights throws only a WeightsError naming the file for random bytes, cuts and flipped headers', () => {
    const networkAndWeights = randomCfgArbitrary({ openCvCompatible: false }).map((text) => {
      const network = parseCfg(text, 'random.cfg');
      return { network, bytes: serialiseWeights(network, randomWeights(network, 11)) };
    });
    const damagedWeights = fc
      .tuple(networkAndWeights, fc.nat(), fc.uint8Array({ maxLength: 64 }), fc.integer({ min: 0, max: 3 }))
      .map(([{ network, bytes }, at, noise, how]) => {
        switch (how) {
          case 0:
            return { network, bytes: bytes.slice(0, at % (bytes.length + 1)) };
          case 1: {
            const copy = bytes.slice();
            // The header: major, minor, revision, seen.
            copy.set(noise.subarray(0, 20), 0);
            return { network, bytes: copy };
          }
          case 2:
            return { network, bytes: Uint8Array.from([...bytes, ...noise]) };
          default:
            return { network, bytes: noise };
        }
      });
    let refused = 0;
    fc.assert(
      fc.property(damagedWeights, ({ network, bytes }) => {
        if (expectOwnError(() => readWeights(network, bytes, 'fuzz.weights'), WeightsError, 'fuzz.weights'))
          refused += 1;
      }),
      { numRuns: RUNS / 2 },
    );
    expect(refused).toBeGreaterThan(RUNS / 8);
  });
});
