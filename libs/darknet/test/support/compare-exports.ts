import { join } from 'path';
import {
  compareTensors,
  exportOnnx,
  forwardReference,
  rawOutputs,
  runOpenCvForward,
  saveCaffe,
  seededInputs,
  type Difference,
} from '../../src';
import { runOnnx } from '../../src/verify/onnx-runner';
import type { ModelFixture } from './export-fixtures';

/** The worst difference per model and raw output, as `model/output` keys. */
export type DifferenceTable = Record<string, Difference>;

function record(table: DifferenceTable, key: string, difference: Difference): void {
  const previous = table[key];
  table[key] = previous
    ? {
        maxAbs: Math.max(previous.maxAbs, difference.maxAbs),
        maxRel: Math.max(previous.maxRel, difference.maxRel),
      }
    : difference;
}

/** Reference outputs of each model on its inputs: `[model][input] -> raw tensors`. */
export function referenceOutputs(
  models: readonly ModelFixture[],
  inputs: readonly (readonly Float32Array[])[],
): ReturnType<typeof forwardReference>['raw'][][] {
  return models.map((model, i) =>
    (inputs[i] ?? []).map((input) => forwardReference(model.network, model.weights, input).raw),
  );
}

/** Seeded inputs per model. */
export function inputsFor(models: readonly ModelFixture[], count: number): Float32Array[][] {
  return models.map((model, i) => seededInputs(model.network, count, 1000 + i));
}

/** Exports each model to ONNX in memory, runs onnxruntime-node, and compares with the reference. */
export async function onnxDifferences(
  models: readonly ModelFixture[],
  inputs: readonly (readonly Float32Array[])[],
  references: ReturnType<typeof referenceOutputs>,
): Promise<DifferenceTable> {
  const table: DifferenceTable = {};
  for (const [i, model] of models.entries()) {
    const outputs = rawOutputs(model.network);
    const actual = await runOnnx(
      exportOnnx(model.network, model.weights),
      model.network.inputShape,
      inputs[i] ?? [],
      outputs.map((output) => output.name),
    );
    references[i]?.forEach((raw, item) => {
      for (const tensor of raw) {
        const got = actual.get(tensor.name)?.[item];
        if (!got) throw new Error(`${model.name}: onnxruntime returned no ${tensor.name}`);
        record(table, `${model.name}/${tensor.name}`, compareTensors(tensor.data, got));
      }
    });
  }
  return table;
}

/** Writes each model's Caffe export to `directory`, runs all through OpenCV in one Python process, compares. */
export function caffeDifferences(
  directory: string,
  models: readonly ModelFixture[],
  inputs: readonly (readonly Float32Array[])[],
  references: ReturnType<typeof referenceOutputs>,
): DifferenceTable {
  const results = runOpenCvForward(
    models.map((model, i) => {
      const paths = saveCaffe(model.network, model.weights, join(directory, model.name));
      return {
        format: 'caffe',
        files: [paths.prototxt, paths.caffemodel],
        inputShape: model.network.inputShape,
        inputs: inputs[i] ?? [],
        outputs: rawOutputs(model.network).map((output) => ({ name: output.name, layer: output.name })),
      };
    }),
  );
  const table: DifferenceTable = {};
  models.forEach((model, i) => {
    references[i]?.forEach((raw, item) => {
      for (const tensor of raw) {
        const got = results[i]?.get(tensor.name)?.[item];
        if (!got) throw new Error(`${model.name}: OpenCV returned no ${tensor.name}`);
        record(table, `${model.name}/${tensor.name}`, compareTensors(tensor.data, got));
      }
    });
  });
  return table;
}

/** Entries of `table` above `tolerance` (relative), for a readable failure. */
export function aboveTolerance(table: DifferenceTable, tolerance: number): DifferenceTable {
  return Object.fromEntries(
    Object.entries(table).filter(([, difference]) => !(difference.maxRel <= tolerance)),
  );
}
