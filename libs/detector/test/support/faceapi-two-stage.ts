import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  convertFaceapiModels,
  FACE_EXPRESSION_NET,
  FACEAPI_DEMO_VIDEO,
  faceapiDemoVideoArguments,
  locateFaceapiPackage,
  serialiseWeights,
  TINY_FACE_DETECTOR,
  type DarknetModel,
} from '@emofleet/darknet';
import { createDetector, type CreateDetectorOptions, type Detector } from '../../src';

function weightsOf(model: DarknetModel): Buffer {
  return Buffer.from(serialiseWeights(model.network, model.weights));
}

/**
 * face-api's tiny face detector and expression net, converted in memory by libs/darknet's importer, with face-api's
 * input preparation for each (the same settings the demo bundle's bundle.json carries).
 */
export function faceapiTwoStageOptions(threads: number): CreateDetectorOptions {
  const models = convertFaceapiModels(locateFaceapiPackage().modelDir);
  return {
    cfg: models.detector.cfgText,
    weights: weightsOf(models.detector),
    names: ['face'],
    threads,
    input: { fit: 'pad-to-square', padding: 'bottom-right', mean: [0, 0, 0], scale: 1 / 255 },
    classifier: {
      cfg: models.expression.cfgText,
      weights: weightsOf(models.expression),
      names: [...FACE_EXPRESSION_NET.labels],
      input: {
        fit: 'pad-to-square',
        padding: 'centred',
        mean: [...FACE_EXPRESSION_NET.meanRgb],
        scale: 1 / 255,
      },
    },
  };
}

export function createFaceapiTwoStageDetector(threads: number): Promise<Detector> {
  return createDetector(faceapiTwoStageOptions(threads));
}

/** face-api's defaults for the tiny face detector. */
export const FACEAPI_THRESHOLDS = {
  scoreThreshold: TINY_FACE_DETECTOR.scoreThreshold,
  iouThreshold: TINY_FACE_DETECTOR.iouThreshold,
} as const;

/**
 * Makes the demo video (libs/darknet's recipe, in a temporary directory) and decodes every `step`-th frame as packed
 * RGB24, FACEAPI_DEMO_VIDEO.width x height.
 */
export function demoVideoFrames(step: number): { index: number; rgb: Buffer }[] {
  const directory = mkdtempSync(join(tmpdir(), 'emofleet-demo-video-'));
  try {
    const video = join(directory, 'demo.mp4');
    const made = spawnSync('ffmpeg', faceapiDemoVideoArguments(locateFaceapiPackage().photos, video), {
      encoding: 'utf8',
    });
    if (made.status !== 0) throw new Error(`ffmpeg could not make the demo video: ${made.stderr}`);
    const { width, height } = FACEAPI_DEMO_VIDEO;
    const decoded = spawnSync(
      'ffmpeg',
      [
        ...['-hide_banner', '-loglevel', 'error', '-i', video],
        ...['-vf', `select=not(mod(n\\,${step}))`, '-vsync', '0'],
        ...['-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'],
      ],
      { maxBuffer: 1 << 30 },
    );
    if (decoded.status !== 0)
      throw new Error(`ffmpeg could not decode the demo video: ${decoded.stderr.toString()}`);
    const frameBytes = width * height * 3;
    const frames: { index: number; rgb: Buffer }[] = [];
    for (let offset = 0; offset + frameBytes <= decoded.stdout.length; offset += frameBytes) {
      frames.push({ index: frames.length * step, rgb: decoded.stdout.subarray(offset, offset + frameBytes) });
    }
    return frames;
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}
