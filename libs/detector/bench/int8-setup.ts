/**
 * The INT8 rows of the benchmark: one plan per network and run (calibrated once, shared by emofleet-int8 and
 * onnxruntime-int8 through EMOFLEET_BENCH_PLAN_DIR), eval images, and how close each INT8 engine's raw output stays
 * to the FP32 engine's (SQNR over all eval images, and agreement of the decoded detections).
 *
 * Images: face-api's six demo photos (real faces, the package is a dev dependency). Calibration uses photos 1-3;
 * evaluation uses photos 4-6 and mirrored / centre-cropped variants of all six, so no eval frame is a calibration
 * frame.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { locateFaceapiPackage, writeFileAtomic, type Network } from '@emofleet/darknet';
import {
  calibrateInt8,
  createDetector,
  type CalibrationFrame,
  type Int8Plan,
  type NetworkInput,
  parseInt8Plan,
} from '@emofleet/detector';
import { decode as decodeJpeg } from 'jpeg-js';

function photo(path: string): CalibrationFrame {
  const image = decodeJpeg(readFileSync(path), { useTArray: true, formatAsRGBA: false });
  return { data: image.data, description: { width: image.width, height: image.height, format: 'rgb24' } };
}

function mirrored(frame: CalibrationFrame): CalibrationFrame {
  const { width, height } = frame.description;
  const data = new Uint8Array(frame.data.length);
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      const from = (y * width + (width - 1 - x)) * 3;
      data.set(frame.data.subarray(from, from + 3), (y * width + x) * 3);
    }
  }
  return { data, description: frame.description };
}

/** The centre 80 % of the frame. */
function cropped(frame: CalibrationFrame): CalibrationFrame {
  const { width, height } = frame.description;
  const w = Math.floor(width * 0.8);
  const h = Math.floor(height * 0.8);
  const left = Math.floor((width - w) / 2);
  const top = Math.floor((height - h) / 2);
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y += 1) {
    const from = ((top + y) * width + left) * 3;
    data.set(frame.data.subarray(from, from + w * 3), y * w * 3);
  }
  return { data, description: { width: w, height: h, format: 'rgb24' } };
}

export interface Int8BenchImages {
  readonly calibration: CalibrationFrame[];
  readonly evaluation: CalibrationFrame[];
}

export function int8BenchImages(): Int8BenchImages {
  const photos = locateFaceapiPackage().photos.map(photo);
  const calibration = photos.slice(0, 3);
  const evaluation = [
    ...photos.slice(3),
    ...photos.flatMap((frame) => [mirrored(frame), cropped(frame), mirrored(cropped(frame))]),
  ];
  return { calibration, evaluation };
}

/** The network's plan for this benchmark run: read from EMOFLEET_BENCH_PLAN_DIR, or calibrated (and stored there). */
export async function benchPlan(
  name: string,
  model: { cfg: string; weights: Buffer; input?: NetworkInput },
  threads: number,
): Promise<Int8Plan> {
  const directory = process.env['EMOFLEET_BENCH_PLAN_DIR'];
  const file = directory ? join(directory, `${name}.int8-plan.json`) : undefined;
  if (file && existsSync(file)) return parseInt8Plan(JSON.parse(readFileSync(file, 'utf8')));
  const { plan } = await calibrateInt8({ ...model, frames: int8BenchImages().calibration, threads });
  if (file) writeFileAtomic(file, JSON.stringify(plan));
  return plan;
}

/** The FP32 engine's input tensors and raw outputs on the eval images: what INT8 rows are compared with. */
export async function fp32References(
  model: { cfg: string; weights: Buffer; input?: NetworkInput },
  threads: number,
): Promise<{ inputs: Float32Array[]; outputs: Float32Array[] }> {
  const detector = await createDetector({ ...model, threads });
  try {
    const inputs: Float32Array[] = [];
    const outputs: Float32Array[] = [];
    for (const frame of int8BenchImages().evaluation) {
      const tensor = await detector.preprocess(frame.data, frame.description);
      inputs.push(tensor);
      outputs.push(await detector.forwardRaw(tensor));
    }
    return { inputs, outputs };
  } finally {
    detector.dispose();
  }
}

interface DecodedBox {
  readonly classId: number;
  readonly score: number;
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}

/** Detection thresholds of the agreement measure: face-api's own for its detector, darknet's defaults otherwise. */
function thresholds(network: Network): { score: number; iou: number } {
  return network.layers.some((layer) => layer.type === 'region' && layer.classes === 1)
    ? { score: 0.5, iou: 0.4 }
    : { score: 0.25, iou: 0.45 };
}

/**
 * Darknet's region decoding of a raw `[region]` input (boxes relative to the network input: logistic x/y and
 * objectness, exp(w/h) x anchor, class softmax or logistic), score threshold, then greedy per-class NMS. The same
 * code decodes every engine's output, so the comparison does not depend on an engine's own post-processing.
 */
export function decodeRegion(network: Network, raw: Float32Array): DecodedBox[] {
  const region = network.layers.find((layer) => layer.type === 'region');
  if (!region || region.type !== 'region') return [];
  const { score: scoreThreshold, iou: iouThreshold } = thresholds(network);
  const [, rows, columns] = region.inputShape;
  const plane = rows * columns;
  const stride = region.coords + 1 + region.classes;
  const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
  const boxes: DecodedBox[] = [];
  for (let n = 0; n < region.num; n += 1) {
    for (let cell = 0; cell < plane; cell += 1) {
      const at = (channel: number) => raw[(n * stride + channel) * plane + cell] ?? 0;
      const objectness = sigmoid(at(region.coords));
      const logits = Array.from({ length: region.classes }, (_, c) => at(region.coords + 1 + c));
      const top = Math.max(...logits);
      const exps = logits.map((logit) => Math.exp(logit - top));
      const sum = exps.reduce((a, b) => a + b, 0);
      const row = Math.floor(cell / columns);
      const column = cell % columns;
      exps.forEach((value, classId) => {
        const score = objectness * (region.softmax ? value / sum : sigmoid(logits[classId] ?? 0));
        if (score < scoreThreshold) return;
        boxes.push({
          classId,
          score,
          x: (column + sigmoid(at(0))) / columns,
          y: (row + sigmoid(at(1))) / rows,
          w: (Math.exp(at(2)) * (region.anchors[2 * n] ?? 1)) / columns,
          h: (Math.exp(at(3)) * (region.anchors[2 * n + 1] ?? 1)) / rows,
        });
      });
    }
  }
  boxes.sort((a, b) => b.score - a.score);
  const kept: DecodedBox[] = [];
  for (const box of boxes) {
    if (!kept.some((other) => other.classId === box.classId && iou(other, box) > iouThreshold))
      kept.push(box);
  }
  return kept;
}

function iou(a: DecodedBox, b: DecodedBox): number {
  const overlap = (p: number, pw: number, q: number, qw: number) =>
    Math.max(0, Math.min(p + pw / 2, q + qw / 2) - Math.max(p - pw / 2, q - qw / 2));
  const intersection = overlap(a.x, a.w, b.x, b.w) * overlap(a.y, a.h, b.y, b.h);
  const union = a.w * a.h + b.w * b.h - intersection;
  return union > 0 ? intersection / union : 0;
}

/** Detections of `actual` matching one of `expected` (same class, IoU >= 0.5, greedy by score). */
function matched(actual: readonly DecodedBox[], expected: readonly DecodedBox[]): number {
  const free = [...expected];
  let count = 0;
  for (const box of actual) {
    const at = free.findIndex((other) => other.classId === box.classId && iou(other, box) >= 0.5);
    if (at >= 0) {
      free.splice(at, 1);
      count += 1;
    }
  }
  return count;
}

/**
 * How close an INT8 engine stays to the FP32 engine on the eval images: SQNR (dB) of the raw outputs over all images
 * together, and detection agreement, the F1 score of its decoded detections against FP32's (same class, IoU >= 0.5)
 * over all images: 1 when every FP32 detection is reproduced and nothing else is found (absent when neither engine
 * detects anything), and how many detections FP32 made.
 */
export function agreementWithFp32(
  network: Network,
  actual: readonly Float32Array[],
  expected: readonly Float32Array[],
): { outputSqnrDb: number; detectionAgreement?: number; fp32Detections: number } {
  let signal = 0;
  let noise = 0;
  let matches = 0;
  let detections = 0;
  let fp32Detections = 0;
  expected.forEach((reference, item) => {
    const values = actual[item] ?? new Float32Array();
    reference.forEach((value, i) => {
      signal += value * value;
      noise += ((values[i] ?? 0) - value) ** 2;
    });
    const ours = decodeRegion(network, values);
    const theirs = decodeRegion(network, reference);
    matches += matched(ours, theirs);
    detections += ours.length + theirs.length;
    fp32Detections += theirs.length;
  });
  return {
    outputSqnrDb: 10 * Math.log10(signal / Math.max(noise, 1e-30)),
    // Random-weight networks may detect nothing at all: then there is no agreement to report.
    ...(detections > 0 ? { detectionAgreement: (2 * matches) / detections } : {}),
    fp32Detections,
  };
}
