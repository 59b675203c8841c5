/**
 * Fidelity of the native two-stage detector against face-api itself: face-api 1.7.15 on TF.js's WASM backend
 * (the reference) and emofleet's detector (libs/darknet's conversion of the same weights, run by the native engine
 * with the face-api input preparation and the expression net on each box, one call per frame) see the same RGB
 * pixels: the six demo photos and frames of the demo video. Every face-api face must have a native face at
 * IoU >= 0.9 (and the counts must agree), with the face score and all 7 expression probabilities within 1e-3.
 */
import { basename } from 'node:path';
import * as faceapi from '@vladmandic/face-api/dist/face-api.node-wasm.js';
import {
  FACE_EXPRESSION_NET,
  FACEAPI_DEMO_VIDEO,
  locateFaceapiPackage,
  TINY_FACE_DETECTOR,
} from '@emofleet/darknet';
import type { Detection, Detector } from '../src';
import {
  loadFaceapiReference,
  readPhoto,
  runDetectorReference,
  runExpressionReference,
} from '../../darknet/test/support/faceapi-reference';
import { iou, type ScoredBox } from '../../darknet/test/support/region-faces';
import {
  createFaceapiTwoStageDetector,
  demoVideoFrames,
  FACEAPI_THRESHOLDS,
} from './support/faceapi-two-stage';

const MATCH_IOU = 0.9;
const PROBABILITY_TOLERANCE = 1e-3;
/** Every 30th frame of the 360-frame demo video: 12 frames, two per photo clip. */
const VIDEO_FRAME_STEP = 30;

jest.setTimeout(600_000);

interface Measurement {
  input: string;
  faces: number;
  worstIou: number;
  scoreDifference: number;
  probabilityDifference: number;
  sameLabels: boolean;
}

type Tensor3D = ReturnType<typeof faceapi.tf.tensor3d>;

function boxOf(detection: Detection): ScoredBox {
  const { x, y, width, height } = detection.box;
  return { left: x, top: y, width, height, score: detection.score };
}

function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let index = 1; index < values.length; index += 1) if (values[index]! > values[best]!) best = index;
  return best;
}

describe('native two-stage detector vs face-api (TF.js WASM) on the demo photos and video', () => {
  const measurements: Measurement[] = [];
  let detector: Detector;

  beforeAll(async () => {
    await loadFaceapiReference();
    detector = await createFaceapiTwoStageDetector(2);
  });

  afterAll(() => {
    detector?.dispose();
    console.info(
      `two-stage fidelity (inputSize ${TINY_FACE_DETECTOR.inputSize}, score > ${FACEAPI_THRESHOLDS.scoreThreshold}):\n` +
        measurements
          .map(
            (m) =>
              `${m.input}: ${m.faces} faces, worst IoU ${m.worstIou.toFixed(5)}, face score max |diff| ` +
              `${m.scoreDifference.toExponential(2)}, expression max |diff| ${m.probabilityDifference.toExponential(2)}, ` +
              `labels ${m.sameLabels ? 'equal' : 'DIFFER'}`,
          )
          .join('\n'),
    );
  });

  /** Runs both on one image (an int32 [h, w, 3] tensor and the same pixels as packed RGB24) and compares. */
  async function compare(input: string, tensor: Tensor3D, rgb: Uint8Array, width: number, height: number) {
    const reference = await runDetectorReference(
      tensor,
      TINY_FACE_DETECTOR.inputSize,
      FACEAPI_THRESHOLDS.scoreThreshold,
    );
    const native = await detector.detect(rgb, { width, height, format: 'rgb24' }, FACEAPI_THRESHOLDS);
    expect(native).toHaveLength(reference.faces.length);
    const measurement: Measurement = {
      input,
      faces: native.length,
      worstIou: 1,
      scoreDifference: 0,
      probabilityDifference: 0,
      sameLabels: true,
    };
    const matchedNative = new Set<number>();
    for (const [index, face] of reference.faces.entries()) {
      const overlaps = native.map((detection) => iou(boxOf(detection), face));
      matchedNative.add(argmax(overlaps));
      const matched = native[argmax(overlaps)]!;
      const overlap = Math.max(...overlaps);
      expect(overlap).toBeGreaterThanOrEqual(MATCH_IOU);
      measurement.worstIou = Math.min(measurement.worstIou, overlap);
      const classification = matched.classification!;
      expect(classification.detectorLabel).toBe('face');
      measurement.scoreDifference = Math.max(
        measurement.scoreDifference,
        Math.abs(classification.detectorScore - face.score),
      );
      const expected = await runExpressionReference(
        tensor,
        reference.detections[index]!,
        FACE_EXPRESSION_NET.meanRgb,
        FACE_EXPRESSION_NET.inputSize,
      );
      expect(classification.scores).toHaveLength(FACE_EXPRESSION_NET.labels.length);
      classification.scores.forEach((probability, label) => {
        measurement.probabilityDifference = Math.max(
          measurement.probabilityDifference,
          Math.abs(probability - expected.probabilities[label]!),
        );
      });
      const sameLabel = matched.label === FACE_EXPRESSION_NET.labels[argmax(expected.probabilities)];
      measurement.sameLabels &&= sameLabel;
      expect(sameLabel).toBe(true);
      expect(matched.score).toBeCloseTo(
        classification.detectorScore * classification.scores[matched.classId]!,
        6,
      );
    }
    expect(matchedNative.size).toBe(native.length);
    expect(measurement.scoreDifference).toBeLessThanOrEqual(PROBABILITY_TOLERANCE);
    expect(measurement.probabilityDifference).toBeLessThanOrEqual(PROBABILITY_TOLERANCE);
    measurements.push(measurement);
  }

  it.each(locateFaceapiPackage().photos.map((path) => [basename(path), path]))(
    'photo %s',
    async (name, path) => {
      const photo = readPhoto(path);
      try {
        const rgb = new Uint8Array(await photo.tensor.data());
        expect(rgb).toHaveLength(photo.width * photo.height * 3);
        await compare(name, photo.tensor, rgb, photo.width, photo.height);
      } finally {
        photo.tensor.dispose();
      }
    },
  );

  it('frames of the demo video', async () => {
    const { width, height, fps, secondsPerPhoto } = FACEAPI_DEMO_VIDEO;
    const frames = demoVideoFrames(VIDEO_FRAME_STEP);
    expect(frames).toHaveLength((6 * fps * secondsPerPhoto) / VIDEO_FRAME_STEP);
    for (const frame of frames) {
      const tensor = faceapi.tf.tensor3d(frame.rgb, [height, width, 3], 'int32');
      try {
        await compare(`demo.mp4 frame ${frame.index}`, tensor, frame.rgb, width, height);
      } finally {
        tensor.dispose();
      }
    }
  });
});
