import { applyExpressionMapping, PAPER_EXPRESSION_MAPPING } from '../src/labels/expression-mapping';
import { FACE_EXPRESSION_NET } from '../src/import/faceapi/face-expression-net';

describe('expression mapping', () => {
  it("renames face-api's four paper expressions and keeps the others in place", () => {
    expect(applyExpressionMapping(FACE_EXPRESSION_NET.labels, PAPER_EXPRESSION_MAPPING)).toEqual([
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
    expect(applyExpressionMapping(['constructor', 'happy'], { happy: 'Happiness' })).toEqual([
      'constructor',
      'Happiness',
    ]);
  });

  it('rejects a mapping for labels the model lacks, and one that merges two classes', () => {
    expect(() => applyExpressionMapping(['face'], PAPER_EXPRESSION_MAPPING)).toThrow(
      /renames 'happy', 'sad', 'surprised', 'angry', which the model does not have \(labels: face\)/,
    );
    expect(() => applyExpressionMapping(['happy', 'joy'], { happy: 'joy' })).toThrow(
      /gives two classes the name 'joy'/,
    );
  });
});
