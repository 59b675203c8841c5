import { join } from 'node:path';
import { chooseBlasCoreType } from './blas-core-type';
import { DetectorError } from './detector-error';
import type { DetectorInfo, NetworkInput, PadToSquareInput, WinogradMode } from './types';

/** One detection as the addon returns it (the label is added in TypeScript). */
export interface NativeDetection {
  classId: number;
  score: number;
  x: number;
  y: number;
  width: number;
  height: number;
  /** Only from a detector with a classifier stage. */
  detectorClassId?: number;
  detectorScore?: number;
  scores?: Float32Array;
}

export interface NativeDetector {
  detect(
    frame: Uint8Array,
    width: number,
    height: number,
    format: string,
    scoreThreshold: number,
    iouThreshold: number,
  ): Promise<NativeDetection[]>;
  forwardRaw(input: Float32Array, layer: number): Promise<Float32Array>;
  forwardLayers(input: Float32Array, layers: number[]): Promise<Float32Array[]>;
  preprocess(frame: Uint8Array, width: number, height: number, format: string): Promise<Float32Array>;
  info(): DetectorInfo;
  dispose(): void;
  readonly disposed: boolean;
}

export interface NativeModule {
  createDetector(
    cfg: string,
    weights: Uint8Array,
    options: {
      backend: string;
      threads: number;
      fuse: boolean;
      winograd: WinogradMode;
      pipelined: boolean;
      input?: NetworkInput;
      classifier?: { cfg: string; weights: Uint8Array; input: PadToSquareInput; threads?: number };
      int8Layers?: Array<{ layer: number; inputScale: number; inputZeroPoint: number }>;
    },
  ): Promise<NativeDetector>;
  /** Diagnostics: this machine's SGEMM GFLOP/s with `threads` threads (blocks for about a second). */
  measureSgemmPeakGflops(threads: number): number;
  /** Comma-separated backends compiled into this build. */
  readonly backends: string;
}

/** Path of the addon node-gyp builds (same from src/ under jest and from dist/). */
export const NATIVE_ADDON_PATH = join(__dirname, '..', 'build', 'Release', 'emofleet_detector.node');

let loaded: NativeModule | undefined;

export function loadNativeModule(): NativeModule {
  if (loaded) return loaded;
  try {
    chooseBlasCoreType();
    const addon: { exports: unknown } = { exports: {} };
    process.dlopen(addon, NATIVE_ADDON_PATH);
    loaded = addon.exports as NativeModule;
  } catch (error) {
    throw new DetectorError(
      'EMOFLEET_NATIVE_MISSING',
      `the native detector is not built (${NATIVE_ADDON_PATH}): run \`npx nx build detector\` ` +
        `(${error instanceof Error ? error.message : String(error)})`,
    );
  }
  return loaded;
}
