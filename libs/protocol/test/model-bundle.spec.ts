import {
  mappedLabels,
  ModelBundleDescriptionError,
  parseModelBundleDescription,
  parseNamesFile,
} from '../src';

const TWO_STAGE = {
  formatVersion: 1,
  detector: {
    input: { fit: 'pad-to-square', padding: 'bottom-right', mean: [0, 0, 0], scale: 1 / 255 },
    scoreThreshold: 0.5,
    iouThreshold: 0.4,
  },
  classifier: {
    input: { fit: 'pad-to-square', padding: 'centred', mean: [122.782, 117.001, 104.298], scale: 1 / 255 },
  },
  labelMapping: { happy: 'Happiness', sad: 'Sadness', surprised: 'Surprise', angry: 'Anger' },
  source: 'face-api 1.7.15',
};

const FACEAPI_LABELS = ['neutral', 'happy', 'sad', 'angry', 'fearful', 'disgusted', 'surprised'];

describe('bundle.json', () => {
  it('accepts a two-stage description and a single-stage one without mapping', () => {
    expect(parseModelBundleDescription(JSON.stringify(TWO_STAGE))).toEqual(TWO_STAGE);
    expect(
      parseModelBundleDescription(
        JSON.stringify({ formatVersion: 1, detector: { input: { fit: 'letterbox' } } }),
      ),
    ).toEqual({ formatVersion: 1, detector: { input: { fit: 'letterbox' } }, labelMapping: {} });
  });

  it.each([
    ['not JSON', '{', /bundle\.json: not JSON/],
    ['unknown version', JSON.stringify({ ...TWO_STAGE, formatVersion: 2 }), /formatVersion/],
    [
      'letterboxed classifier',
      JSON.stringify({ ...TWO_STAGE, classifier: { input: { fit: 'letterbox' } } }),
      /classifier\.input\.fit/,
    ],
    [
      'mean of two values',
      JSON.stringify({
        ...TWO_STAGE,
        detector: { input: { ...TWO_STAGE.detector.input, mean: [1, 2] } },
      }),
      /detector\.input\.mean/,
    ],
    [
      'zero scale',
      JSON.stringify({ ...TWO_STAGE, detector: { input: { ...TWO_STAGE.detector.input, scale: 0 } } }),
      /detector\.input\.scale: must not be 0/,
    ],
    ['unknown key', JSON.stringify({ ...TWO_STAGE, extra: true }), /extra/],
    [
      'score threshold above 1',
      JSON.stringify({ ...TWO_STAGE, detector: { ...TWO_STAGE.detector, scoreThreshold: 2 } }),
      /detector\.scoreThreshold/,
    ],
  ])('refuses %s, naming the field', (_case, text, message) => {
    expect(() => parseModelBundleDescription(text)).toThrow(ModelBundleDescriptionError);
    expect(() => parseModelBundleDescription(text)).toThrow(message);
  });
});

describe('label mapping', () => {
  it("renames face-api's four expressions to the paper's and keeps the other labels", () => {
    expect(mappedLabels(FACEAPI_LABELS, TWO_STAGE.labelMapping)).toEqual([
      'neutral',
      'Happiness',
      'Sadness',
      'Anger',
      'fearful',
      'disgusted',
      'Surprise',
    ]);
  });

  it('keeps labels that only look like object properties', () => {
    expect(mappedLabels(['constructor', 'toString', 'happy'], { happy: 'Happiness' })).toEqual([
      'constructor',
      'toString',
      'Happiness',
    ]);
  });

  it('refuses a mapping for labels the model lacks, and one that merges two classes', () => {
    expect(() => mappedLabels(['face'], TWO_STAGE.labelMapping)).toThrow(
      /renames 'happy', 'sad', 'surprised', 'angry', which the model does not have \(labels: face\)/,
    );
    expect(() => mappedLabels(FACEAPI_LABELS, { happy: 'neutral' })).toThrow(
      /gives two classes the name 'neutral'/,
    );
  });

  it('reads .names files as darknet does', () => {
    expect(parseNamesFile('happy\r\n\n sad \n')).toEqual(['happy', 'sad']);
  });
});
