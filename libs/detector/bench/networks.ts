import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  convertFaceapiModels,
  locateFaceapiPackage,
  parseCfg,
  randomWeights,
  serialiseWeights,
  type Network,
  type NetworkWeights,
} from '@emofleet/darknet';
import type { NetworkInput } from '@emofleet/detector';

/**
 * The paper's three networks (shipped by libs/darknet), all 416x416, 4 classes, on seeded random weights; and
 * face-api's tiny face detector with its real pretrained weights (imported by libs/darknet, 416x416, 1 class).
 */
export const BENCH_NETWORKS = {
  tiny: 'yolov2-tiny-expression.cfg',
  '1x1': 'yolov2-expression-1x1.cfg',
  base: 'yolov2-expression.cfg',
  faceapi: 'face-api tiny_face_detector_model (pretrained)',
} as const;

export type BenchNetwork = keyof typeof BENCH_NETWORKS;

export const MODELS_DIR = join(__dirname, '..', '..', 'darknet', 'models');
export const WEIGHTS_SEED = 20190101;

export function isBenchNetwork(name: string): name is BenchNetwork {
  return Object.prototype.hasOwnProperty.call(BENCH_NETWORKS, name);
}

export type Engine = 'emofleet' | 'onnxruntime' | 'opencv';

/** One measurement: a network on an engine, in one process of its own (so RSS is that engine's). */
export interface BenchRow {
  network: BenchNetwork;
  engine: Engine;
  /** forward: the network alone on a fixed input; detect: frame in, detections out, two frames in flight. */
  mode: 'forward' | 'detect';
  /**
   * fp32, or int8: emofleet-int8 runs the plan (calibrated in this run, see int8-setup.ts; last conv before
   * [region] in fp32), onnxruntime-int8 the QDQ ONNX export of the same plan (u8 activations, s8 per-channel weights).
   */
  precision: 'fp32' | 'int8';
  /** int8 rows: signal-to-quantisation-noise ratio of the raw output against the FP32 engine on the eval images, dB. */
  outputSqnrDb?: number;
  /** int8 rows: F1 of the decoded detections against the FP32 engine's on the eval images (int8-setup.ts). */
  detectionAgreement?: number;
  /** int8 rows: detections of the FP32 engine on the eval images (what the agreement is measured on). */
  fp32Detections?: number;
  fused: boolean;
  /** emofleet FP32 rows: the convolution algorithm switch ('auto': Winograd where it pays, 'off': im2col only). */
  winograd?: 'auto' | 'off' | 'f2' | 'f4';
  threads: number;
  fps: number;
  p50Ms: number;
  p99Ms: number;
  rssMb: number;
  iterations: number;
  gflops: number;
  activationMb?: number;
  unplannedActivationMb?: number;
}

/** A benchmark network: cfg text, parsed network, weights (parsed and as darknet bytes), input preparation. */
export interface BenchModel {
  readonly cfg: string;
  readonly network: Network;
  readonly weights: NetworkWeights;
  readonly weightsBytes: Buffer;
  readonly input?: NetworkInput;
}

export function loadBenchModel(name: BenchNetwork): BenchModel {
  if (name === 'faceapi') {
    const { detector } = convertFaceapiModels(locateFaceapiPackage().modelDir);
    return {
      cfg: detector.cfgText,
      network: detector.network,
      weights: detector.weights,
      weightsBytes: Buffer.from(serialiseWeights(detector.network, detector.weights)),
      // face-api's own preparation: zero padding to a square at the bottom/right, rgb / 255.
      input: { fit: 'pad-to-square', padding: 'bottom-right', mean: [0, 0, 0], scale: 1 / 255 },
    };
  }
  const cfgPath = join(MODELS_DIR, BENCH_NETWORKS[name]);
  const cfg = readFileSync(cfgPath, 'utf8');
  const network = parseCfg(cfg, cfgPath);
  const weights = randomWeights(network, WEIGHTS_SEED);
  return { cfg, network, weights, weightsBytes: Buffer.from(serialiseWeights(network, weights)) };
}
