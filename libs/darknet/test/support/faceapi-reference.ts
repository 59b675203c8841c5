import { readFileSync } from 'fs';
import { dirname } from 'path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as faceapi from '@vladmandic/face-api/dist/face-api.node-wasm.js';
import { decode } from 'jpeg-js';
import { FACEAPI_MODEL_DIR } from './faceapi-package';
import type { ScoredBox } from './region-faces';

type Tensor3D = ReturnType<typeof faceapi.tf.tensor3d>;

/**
 * face-api itself on TF.js's WASM backend, loaded from the installed packages (the `.wasm` files come from
 * `@tensorflow/tfjs-backend-wasm/dist`, nothing is downloaded), with both networks loaded from disk.
 */
export async function loadFaceapiReference(): Promise<void> {
  const wasmDir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
  setWasmPaths(`${wasmDir}/`);
  if (!(await tf.setBackend('wasm'))) throw new Error('TF.js could not initialise its WASM backend');
  await tf.ready();
  await faceapi.nets.tinyFaceDetector.loadFromDisk(FACEAPI_MODEL_DIR);
  await faceapi.nets.faceExpressionNet.loadFromDisk(FACEAPI_MODEL_DIR);
}

/** A JPEG decoded with jpeg-js as an int32 `[height, width, 3]` RGB tensor (dispose it). */
export function readPhoto(path: string): { tensor: Tensor3D; width: number; height: number } {
  const image = decode(readFileSync(path), { useTArray: true, formatAsRGBA: false });
  const tensor = faceapi.tf.tensor3d(image.data, [image.height, image.width, 3], 'int32');
  return { tensor, width: image.width, height: image.height };
}

/** NHWC float data of a `[1, h, w, c]` tensor as CHW, each value mapped by `transform(value, channel)`. */
function nhwcToChw(
  data: Float32Array,
  height: number,
  width: number,
  channels: number,
  transform: (value: number, channel: number) => number,
): Float32Array {
  const chw = new Float32Array(data.length);
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      for (let c = 0; c < channels; c += 1) {
        chw[(c * height + y) * width + x] = transform(data[(y * width + x) * channels + c]!, c);
      }
    }
  }
  return chw;
}

/** What face-api computes for one photo with the tiny face detector, and the input it used. */
export interface DetectorReference {
  /** face-api's `[1, grid, grid, 25]` output (NHWC, channel = anchor * 5 + entry), before decoding. */
  readonly raw: Float32Array;
  readonly grid: number;
  /** The same network input for darknet: the padded, resized image as CHW RGB / 255. */
  readonly darknetInput: Float32Array;
  /** face-api's decoded faces (`locateFaces`) in image pixels. */
  readonly faces: ScoredBox[];
  readonly detections: Awaited<ReturnType<typeof faceapi.nets.tinyFaceDetector.locateFaces>>;
}

export async function runDetectorReference(
  image: Tensor3D,
  inputSize: number,
  scoreThreshold: number,
): Promise<DetectorReference> {
  const netInput = await faceapi.toNetInput(image);
  const batch = netInput.toBatchTensor(inputSize, false);
  const pixels = (await batch.data()) as Float32Array;
  batch.dispose();
  const output = faceapi.nets.tinyFaceDetector.forwardInput(netInput, inputSize);
  const raw = (await output.data()) as Float32Array;
  const grid = output.shape[1];
  output.dispose();
  const detections = await faceapi.nets.tinyFaceDetector.locateFaces(image, { inputSize, scoreThreshold });
  return {
    raw,
    grid,
    darknetInput: nhwcToChw(pixels, inputSize, inputSize, 3, (value) => value / 255),
    faces: detections.map((detection) => ({
      left: detection.box.x,
      top: detection.box.y,
      width: detection.box.width,
      height: detection.box.height,
      score: detection.score,
    })),
    detections,
  };
}

/** What face-api computes for one detected face with the expression net, and the input it used. */
export interface ExpressionReference {
  /** The seven probabilities in face-api's label order. */
  readonly probabilities: Float32Array;
  /** The same network input for darknet: `(rgb - mean) / 255` of the padded 112x112 crop, CHW. */
  readonly darknetInput: Float32Array;
}

export async function runExpressionReference(
  image: Tensor3D,
  detection: DetectorReference['detections'][number],
  meanRgb: readonly [number, number, number],
  inputSize: number,
): Promise<ExpressionReference> {
  const [face] = await faceapi.extractFaceTensors(image, [detection]);
  if (!face) throw new Error('face-api extracted no face tensor');
  const netInput = await faceapi.toNetInput(face);
  const batch = netInput.toBatchTensor(inputSize, true);
  const pixels = (await batch.data()) as Float32Array;
  batch.dispose();
  const output = faceapi.nets.faceExpressionNet.forwardInput(netInput);
  const probabilities = (await output.data()) as Float32Array;
  output.dispose();
  face.dispose();
  return {
    probabilities,
    darknetInput: nhwcToChw(
      pixels,
      inputSize,
      inputSize,
      3,
      (value, channel) => (value - meanRgb[channel]!) / 255,
    ),
  };
}
