import { basename } from 'path';
import { convertFaceapiModels } from '../src/import/faceapi/import-faceapi';
import { FACE_EXPRESSION_NET } from '../src/import/faceapi/face-expression-net';
import { REGION_ENTRIES_PER_ANCHOR, TINY_FACE_DETECTOR } from '../src/import/faceapi/tiny-face-detector';
import { forwardReference } from '../src/reference/forward';
import { FACEAPI_DEMO_PHOTOS, FACEAPI_MODEL_DIR } from './support/faceapi-package';
import {
  loadFaceapiReference,
  readPhoto,
  runDetectorReference,
  runExpressionReference,
} from './support/faceapi-reference';
import { decodeSingleClassRegion, iou } from './support/region-faces';

/**
 * Fidelity of the converted face-api networks: face-api's own code on TF.js's WASM backend and the darknet
 * conversion under the reference forward pass get the same preprocessed input tensors.
 */

/**
 * Max |face-api - darknet| over the detector's 25 raw channels (logits of x, y, w, h, objectness); measured
 * 4.6e-5 (float32 rounding: conv0's folded mean, the order of accumulation).
 */
const DETECTOR_RAW_TOLERANCE = 2e-4;
const PROBABILITY_TOLERANCE = 1e-3;
const MATCH_IOU = 0.9;

jest.setTimeout(300_000);

interface PhotoMeasurement {
  photo: string;
  detectorRawMaxDifference: number;
  faces: number;
  worstMatchIou: number;
  expressionMaxDifference: number;
}

describe('face-api import fidelity (face-api on TF.js WASM vs darknet reference forward)', () => {
  const models = convertFaceapiModels(FACEAPI_MODEL_DIR);
  const measurements: PhotoMeasurement[] = [];

  beforeAll(async () => {
    await loadFaceapiReference();
  });

  afterAll(() => {
    console.info(
      `face-api fidelity (inputSize ${TINY_FACE_DETECTOR.inputSize}):\n${measurements
        .map(
          (m) =>
            `${m.photo}: detector raw max |diff| ${m.detectorRawMaxDifference.toExponential(2)}, ${m.faces} faces, worst IoU ${m.worstMatchIou.toFixed(5)}, expression max |diff| ${m.expressionMaxDifference.toExponential(2)}`,
        )
        .join('\n')}`,
    );
  });

  it.each(FACEAPI_DEMO_PHOTOS.map((path) => [basename(path), path]))('%s', async (photo, path) => {
    const image = readPhoto(path);
    try {
      const { inputSize, scoreThreshold, iouThreshold, anchors, boxEncodingSize } = TINY_FACE_DETECTOR;
      const reference = await runDetectorReference(image.tensor, inputSize, scoreThreshold);
      const darknetRaw = forwardReference(
        models.detector.network,
        models.detector.weights,
        reference.darknetInput,
      ).raw[0]!.data;

      // Raw grid: face-api NHWC channel a*5+e against darknet CHW channel a*6+e; the class logit is 0.
      const grid = reference.grid;
      const plane = grid * grid;
      expect(darknetRaw.length).toBe(anchors.length * REGION_ENTRIES_PER_ANCHOR * plane);
      let detectorRawMaxDifference = 0;
      for (let cell = 0; cell < plane; cell += 1) {
        for (let anchor = 0; anchor < anchors.length; anchor += 1) {
          for (let entry = 0; entry < boxEncodingSize; entry += 1) {
            const faceapiValue =
              reference.raw[cell * anchors.length * boxEncodingSize + anchor * boxEncodingSize + entry]!;
            const darknetValue = darknetRaw[(anchor * REGION_ENTRIES_PER_ANCHOR + entry) * plane + cell]!;
            detectorRawMaxDifference = Math.max(
              detectorRawMaxDifference,
              Math.abs(faceapiValue - darknetValue),
            );
          }
          expect(darknetRaw[(anchor * REGION_ENTRIES_PER_ANCHOR + boxEncodingSize) * plane + cell]).toBe(0);
        }
      }
      expect(detectorRawMaxDifference).toBeLessThanOrEqual(DETECTOR_RAW_TOLERANCE);

      // Decoded faces: every face-api face has a darknet face at IoU >= 0.9 and vice versa.
      const faces = decodeSingleClassRegion(darknetRaw, grid, anchors, image, inputSize, {
        score: scoreThreshold,
        nmsIou: iouThreshold,
      });
      expect(reference.faces.length).toBeGreaterThan(0);
      expect(faces).toHaveLength(reference.faces.length);
      let worstMatchIou = 1;
      for (const expected of reference.faces) {
        const best = Math.max(...faces.map((face) => iou(face, expected)));
        worstMatchIou = Math.min(worstMatchIou, best);
        expect(best).toBeGreaterThanOrEqual(MATCH_IOU);
      }

      // Expression probabilities on each face-api face crop.
      let expressionMaxDifference = 0;
      for (const detection of reference.detections) {
        const expression = await runExpressionReference(
          image.tensor,
          detection,
          FACE_EXPRESSION_NET.meanRgb,
          FACE_EXPRESSION_NET.inputSize,
        );
        const probabilities = forwardReference(
          models.expression.network,
          models.expression.weights,
          expression.darknetInput,
        ).raw[0]!.data;
        expect(probabilities).toHaveLength(FACE_EXPRESSION_NET.labels.length);
        probabilities.forEach((probability, label) => {
          expressionMaxDifference = Math.max(
            expressionMaxDifference,
            Math.abs(probability - expression.probabilities[label]!),
          );
        });
      }
      expect(expressionMaxDifference).toBeLessThanOrEqual(PROBABILITY_TOLERANCE);
      measurements.push({
        photo,
        detectorRawMaxDifference,
        faces: faces.length,
        worstMatchIou,
        expressionMaxDifference,
      });
    } finally {
      image.tensor.dispose();
    }
  });
});
