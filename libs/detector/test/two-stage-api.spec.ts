/**
 * The two-stage options of createDetector (input preparation, classifier) and their errors, on tiny networks with
 * seeded random weights. Fidelity with face-api's real networks is faceapi-two-stage-fidelity.spec.ts.
 */
import { parseCfg, randomWeights, serialiseWeights } from '@emofleet/darknet';
import { createDetector, DetectorError, type CreateDetectorOptions } from '../src';
import { randomBytes } from './support/networks';

const DETECTOR_CFG =
  '[net]\nwidth=32\nheight=32\nchannels=3\n[convolutional]\nbatch_normalize=1\nfilters=8\nsize=3\npad=1\n' +
  'activation=leaky\n[maxpool]\nsize=2\nstride=2\n[convolutional]\nfilters=12\nsize=1\nactivation=linear\n' +
  '[region]\nanchors=2,2,5,5\nclasses=1\nnum=2\nsoftmax=1\n';
const CLASSIFIER_CFG =
  '[net]\nwidth=16\nheight=16\nchannels=3\n[convolutional]\nfilters=4\nsize=4\nstride=2\npadding=1\n' +
  'activation=relu\n[avgpool]\n[connected]\noutput=3\nactivation=linear\n[softmax]\n';

function weightsOf(cfg: string, seed: number): Buffer {
  const network = parseCfg(cfg, 'test.cfg');
  return Buffer.from(serialiseWeights(network, randomWeights(network, seed)));
}

const TWO_STAGE: CreateDetectorOptions = {
  cfg: DETECTOR_CFG,
  weights: weightsOf(DETECTOR_CFG, 1),
  names: ['face'],
  threads: 1,
  input: { fit: 'pad-to-square', padding: 'bottom-right', mean: [0, 0, 0], scale: 1 / 255 },
  classifier: {
    cfg: CLASSIFIER_CFG,
    weights: weightsOf(CLASSIFIER_CFG, 2),
    names: ['neutral', 'Happiness', 'sad'],
    input: { fit: 'pad-to-square', padding: 'centred', mean: [120, 110, 100], scale: 1 / 255 },
  },
};

async function failure(options: CreateDetectorOptions): Promise<DetectorError> {
  const error = await createDetector(options).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof DetectorError)) throw new Error(`expected a DetectorError, got ${String(error)}`);
  return error;
}

describe('two-stage createDetector', () => {
  it('classifies every detected box: classifier labels, combined score, the first stage kept', async () => {
    const detector = await createDetector(TWO_STAGE);
    try {
      expect(detector.info.inputFit).toBe('pad-to-square');
      expect(detector.info.classifier).toMatchObject({
        input: { channels: 3, height: 16, width: 16 },
        classes: 3,
      });
      const frame = randomBytes(48 * 36 * 3, 3);
      const found = await detector.detect(
        frame,
        { width: 48, height: 36, format: 'rgb24' },
        { scoreThreshold: 0.05 },
      );
      expect(found.length).toBeGreaterThan(0);
      for (const detection of found) {
        const { classification } = detection;
        expect(classification?.detectorLabel).toBe('face');
        expect(classification?.scores).toHaveLength(3);
        const best = Math.max(...(classification?.scores ?? []));
        expect(detection.classId).toBe(classification?.scores.indexOf(best));
        expect(detection.label).toBe(['neutral', 'Happiness', 'sad'][detection.classId]);
        expect(detection.score).toBeCloseTo((classification?.detectorScore ?? 0) * best, 6);
      }
    } finally {
      detector.dispose();
    }
  });

  it('prepares frames as face-api does when asked (the letterbox otherwise)', async () => {
    const padded = await createDetector({ ...TWO_STAGE, classifier: undefined });
    const letterboxed = await createDetector({ ...TWO_STAGE, classifier: undefined, input: undefined });
    try {
      // A white 64x32 frame: padded at the bottom with zeros (face-api), centred in grey 0.5 (darknet).
      const frame = Buffer.alloc(64 * 32 * 3, 255);
      const description = { width: 64, height: 32, format: 'rgb24' } as const;
      const faceapi = await padded.preprocess(frame, description);
      const darknet = await letterboxed.preprocess(frame, description);
      expect(faceapi[0]).toBeCloseTo(1, 6);
      expect(faceapi[32 * 32 - 1]).toBe(0);
      expect(darknet[0]).toBe(0.5);
      expect(darknet[16 * 32]).toBeCloseTo(1, 6);
      expect(letterboxed.info.inputFit).toBe('letterbox');
    } finally {
      padded.dispose();
      letterboxed.dispose();
    }
  });

  it.each<[string, CreateDetectorOptions, DetectorError['code'], RegExp]>([
    [
      'unknown padding',
      {
        ...TWO_STAGE,
        input: { ...TWO_STAGE.input, padding: 'left' } as unknown as CreateDetectorOptions['input'],
      },
      'EMOFLEET_BAD_ARGUMENT',
      /input\.padding must be 'bottom-right' or 'centred', got 'left'/,
    ],
    [
      'a zero scale',
      { ...TWO_STAGE, input: { fit: 'pad-to-square', padding: 'centred', mean: [0, 0, 0], scale: 0 } },
      'EMOFLEET_BAD_ARGUMENT',
      /input\.scale must be a finite number other than 0/,
    ],
    [
      'pad-to-square on a wide network',
      { ...TWO_STAGE, cfg: DETECTOR_CFG.replace('width=32', 'width=64'), classifier: undefined },
      'EMOFLEET_BAD_ARGUMENT',
      /detector: pad-to-square input needs a square network input, the cfg has 64x32/,
    ],
    [
      'a letterboxed classifier',
      {
        ...TWO_STAGE,
        classifier: { ...TWO_STAGE.classifier!, input: { fit: 'letterbox' } as unknown as never },
      },
      'EMOFLEET_BAD_ARGUMENT',
      /classifier\.input must be \{ fit: 'pad-to-square', \.\.\. \}/,
    ],
    [
      'a detection network as the classifier',
      {
        ...TWO_STAGE,
        classifier: { ...TWO_STAGE.classifier!, cfg: DETECTOR_CFG, weights: weightsOf(DETECTOR_CFG, 4) },
      },
      'EMOFLEET_BAD_CFG',
      /^classifier cfg:\d+: a classifier ends in class scores, not \[region\]/,
    ],
    [
      'truncated classifier weights',
      {
        ...TWO_STAGE,
        classifier: { ...TWO_STAGE.classifier!, weights: weightsOf(CLASSIFIER_CFG, 2).subarray(0, 100) },
      },
      'EMOFLEET_BAD_WEIGHTS',
      /^classifier weights: expected \d+ bytes, got 100/,
    ],
    [
      'negative classifier threads',
      { ...TWO_STAGE, classifier: { ...TWO_STAGE.classifier!, threads: -1 } },
      'EMOFLEET_BAD_ARGUMENT',
      /threads must be 0 \(all cores\) or an integer 1\.\.256, got -1/,
    ],
    [
      'more classifier names than outputs',
      { ...TWO_STAGE, classifier: { ...TWO_STAGE.classifier!, names: ['a', 'b', 'c', 'd'] } },
      'EMOFLEET_BAD_ARGUMENT',
      /classifier names: 4 labels for a classifier with 3 outputs/,
    ],
  ])('refuses %s', async (_case, options, code, message) => {
    const error = await failure(options);
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message);
  });
});
