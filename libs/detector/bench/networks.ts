import { join } from 'node:path';

/** The paper's three networks (shipped by libs/darknet), all 416x416, 4 classes. */
export const BENCH_NETWORKS = {
  tiny: 'yolov2-tiny-expression.cfg',
  '1x1': 'yolov2-expression-1x1.cfg',
  base: 'yolov2-expression.cfg',
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
  fused: boolean;
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
