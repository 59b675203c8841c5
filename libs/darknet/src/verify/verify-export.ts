import { existsSync } from 'fs';
import { caffePaths } from '../export/caffe/export-caffe';
import type { Network, NetworkWeights, Shape } from '../network/types';
import { loadCfg } from '../network/parse-network';
import { forwardReference } from '../reference/forward';
import { rawOutputs, type RawOutput } from '../reference/graph';
import { SeededRandom } from '../util/seeded-random';
import { loadWeights } from '../weights/read-weights';
import { compareTensors, worstOf, type Difference } from './compare';
import { runOnnx } from './onnx-runner';
import { runOpenCvForward } from './opencv-runner';

/** An exported model on disk. */
export type ExportedModel =
  | { readonly format: 'onnx'; readonly path: string }
  | { readonly format: 'caffe'; readonly prototxt: string; readonly caffemodel: string };

/** Recognises an export by extension: `.onnx`, or `.prototxt`/`.caffemodel` (the other file next to it). */
export function exportedModelAt(path: string): ExportedModel {
  if (path.endsWith('.onnx')) return { format: 'onnx', path };
  if (path.endsWith('.prototxt') || path.endsWith('.caffemodel')) {
    const paths = caffePaths(path);
    for (const file of [paths.prototxt, paths.caffemodel]) {
      if (!existsSync(file)) throw new Error(`${path}: the Caffe export needs ${file}, which does not exist`);
    }
    return { format: 'caffe', ...paths };
  }
  throw new Error(`${path}: not an export this tool can verify (expected .onnx, .prototxt or .caffemodel)`);
}

export interface VerifyOptions {
  /** Number of random inputs (default 3). */
  readonly inputs?: number;
  /** Seed of the random inputs (default 1). */
  readonly seed?: number;
  /** Largest acceptable relative difference (default 1e-4). */
  readonly tolerance?: number;
}

/** The difference of one raw output, worst over all inputs. */
export interface OutputDifference extends Difference {
  readonly name: string;
  readonly layerIndex: number;
  readonly shape: Shape;
}

export interface VerifyReport extends Difference {
  readonly format: ExportedModel['format'];
  readonly inputs: number;
  readonly seed: number;
  readonly tolerance: number;
  readonly outputs: readonly OutputDifference[];
  /** `maxRel <= tolerance`. */
  readonly passed: boolean;
}

export const DEFAULT_VERIFY_TOLERANCE = 1e-4;

/** `count` inputs uniform in [0, 1) (RGB 0..1, as darknet feeds images), reproducible from `seed`. */
export function seededInputs(network: Network, count: number, seed: number): Float32Array[] {
  const random = new SeededRandom(seed);
  const [channels, height, width] = network.inputShape;
  return Array.from({ length: count }, () => random.fill(channels * height * width, 0, 1));
}

async function runExport(
  exported: ExportedModel,
  network: Network,
  inputs: readonly Float32Array[],
  outputs: readonly RawOutput[],
): Promise<ReadonlyMap<string, readonly Float32Array[]>> {
  const names = outputs.map((output) => output.name);
  switch (exported.format) {
    case 'onnx':
      return runOnnx(exported.path, network.inputShape, inputs, names);
    case 'caffe': {
      const [result] = runOpenCvForward([
        {
          format: 'caffe',
          files: [exported.prototxt, exported.caffemodel],
          inputShape: network.inputShape,
          inputs,
          outputs: names.map((name) => ({ name, layer: name })),
        },
      ]);
      if (!result) throw new Error('OpenCV returned no result');
      return result;
    }
  }
}

/**
 * Runs the reference forward pass (the source) and the exported model on the same seeded random inputs and
 * reports, per raw output, the largest absolute and relative difference (see `compareTensors`). ONNX runs on
 * onnxruntime-node; Caffe on OpenCV's Caffe importer (`python3-opencv`).
 */
export async function verifyNetworkExport(
  network: Network,
  weights: NetworkWeights,
  exported: ExportedModel,
  options: VerifyOptions = {},
): Promise<VerifyReport> {
  const count = options.inputs ?? 3;
  const seed = options.seed ?? 1;
  const tolerance = options.tolerance ?? DEFAULT_VERIFY_TOLERANCE;
  if (!Number.isInteger(count) || count < 1)
    throw new Error(`--inputs must be a positive integer, got ${count}`);
  const outputs = rawOutputs(network);
  const inputs = seededInputs(network, count, seed);
  const actual = await runExport(exported, network, inputs, outputs);
  const references = inputs.map((input) => forwardReference(network, weights, input).raw);
  const differences = outputs.map((output): OutputDifference => {
    let worst: Difference = { maxAbs: 0, maxRel: 0 };
    references.forEach((raw, item) => {
      const expected = raw.find((tensor) => tensor.name === output.name);
      const got = actual.get(output.name)?.[item];
      if (!expected || !got) throw new Error(`the export produced no '${output.name}' for input ${item}`);
      worst = worstOf(worst, compareTensors(expected.data, got));
    });
    return { name: output.name, layerIndex: output.layerIndex, shape: output.shape, ...worst };
  });
  const overall = differences.reduce<Difference>(worstOf, { maxAbs: 0, maxRel: 0 });
  return {
    format: exported.format,
    inputs: count,
    seed,
    tolerance,
    outputs: differences,
    ...overall,
    passed: overall.maxRel <= tolerance,
  };
}

/** `verifyNetworkExport` from files: a darknet cfg and weights and an export (`.onnx`, `.prototxt` or `.caffemodel`). */
export async function verifyExport(
  cfgPath: string,
  weightsPath: string,
  exportedPath: string,
  options: VerifyOptions = {},
): Promise<VerifyReport> {
  const network = loadCfg(cfgPath);
  const weights = loadWeights(network, weightsPath);
  return verifyNetworkExport(network, weights, exportedModelAt(exportedPath), options);
}

/** Human-readable lines for a report. */
export function formatVerifyReport(report: VerifyReport): string {
  const lines = report.outputs.map(
    (output) =>
      `${output.name} (layer ${output.layerIndex}, ${output.shape.join('x')}): max abs ${output.maxAbs.toExponential(3)}, max rel ${output.maxRel.toExponential(3)}`,
  );
  const verdict = report.passed ? 'OK' : 'FAILED';
  lines.push(
    `${verdict}: ${report.format} export vs reference on ${report.inputs} seeded inputs (seed ${report.seed}): max abs ${report.maxAbs.toExponential(3)}, max rel ${report.maxRel.toExponential(3)} (tolerance ${report.tolerance}; rel = max|export-reference| / max|reference|)`,
  );
  return `${lines.join('\n')}\n`;
}
