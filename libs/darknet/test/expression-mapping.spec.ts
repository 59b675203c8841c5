import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mappedLabels, parseNamesFile } from '@emofleet/protocol';
import { PAPER_EXPRESSION_MAPPING } from '../src/labels/expression-mapping';
import { FACE_EXPRESSION_NET } from '../src/import/faceapi/face-expression-net';

describe('paper expression mapping', () => {
  it("renames face-api's four paper expressions and keeps the others in place", () => {
    expect(mappedLabels(FACE_EXPRESSION_NET.labels, PAPER_EXPRESSION_MAPPING)).toEqual([
      'neutral',
      'Happiness',
      'Sadness',
      'Anger',
      'fearful',
      'disgusted',
      'Surprise',
    ]);
  });

  it('renames to the class names of the expression detector models (models/expressions.names)', () => {
    const names = parseNamesFile(readFileSync(join(__dirname, '../models/expressions.names'), 'utf8'));
    expect(Object.values(PAPER_EXPRESSION_MAPPING).sort()).toEqual([...names].sort());
  });
});
