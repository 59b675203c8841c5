/**
 * @jest-environment ./test/support/onnxruntime-environment.js
 */
import { mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { compareTensors, rawOutputs, runOpenCvForward } from '../src';
import {
  aboveTolerance,
  caffeDifferences,
  inputsFor,
  onnxDifferences,
  referenceOutputs,
  type DifferenceTable,
} from './support/compare-exports';
import { TOLERANCE, writeModel, type ModelFixture } from './support/export-fixtures';
import { openCvAvailable } from './support/opencv-oracle';

const MODELS = join(__dirname, '..', 'models');
const SHIPPED = ['yolov2-expression', 'yolov2-expression-1x1', 'yolov2-tiny-expression'];
const itWithOpenCv = openCvAvailable() ? it : it.skip;

/**
 * The three shipped networks with seeded random weights, one seeded input each. The reference forward pass
 * runs once per network (YOLO v2-416 takes ~15-25 s here) and every format is compared against it.
 */
describe('shipped networks: reference vs OpenCV darknet, ONNX and Caffe exports', () => {
  let directory: string;
  let models: ModelFixture[];
  let inputs: Float32Array[][];
  let references: ReturnType<typeof referenceOutputs>;
  const measured: Record<string, DifferenceTable> = {};

  beforeAll(() => {
    directory = mkdtempSync(join(tmpdir(), 'darknet-shipped-'));
    models = SHIPPED.map((name, i) =>
      writeModel(directory, name, readFileSync(join(MODELS, `${name}.cfg`), 'utf8'), 2019 + i),
    );
    inputs = inputsFor(models, 1);
    references = referenceOutputs(models, inputs);
  }, 240_000);
  afterAll(() => {
    rmSync(directory, { recursive: true, force: true });
    const lines = Object.entries(measured).flatMap(([format, table]) =>
      Object.entries(table).map(
        ([key, difference]) =>
          `${format.padEnd(15)} ${key.padEnd(30)} max abs ${difference.maxAbs.toExponential(2)}  max rel ${difference.maxRel.toExponential(2)}`,
      ),
    );
    process.stdout.write(`measured differences (seeded random weights, one input):\n${lines.join('\n')}\n`);
  });

  itWithOpenCv(
    "the reference matches OpenCV's darknet importer",
    () => {
      const results = runOpenCvForward(
        models.map((model, i) => ({
          format: 'darknet',
          files: [model.cfgPath, model.weightsPath],
          inputShape: model.network.inputShape,
          inputs: inputs[i] ?? [],
          outputs: rawOutputs(model.network).map((output) => ({
            name: output.name,
            darknetLayer: output.layerIndex,
          })),
        })),
      );
      const table: DifferenceTable = {};
      models.forEach((model, i) => {
        for (const tensor of references[i]?.[0] ?? []) {
          const openCv = results[i]?.get(tensor.name)?.[0];
          if (!openCv) throw new Error(`${model.name}: OpenCV returned no ${tensor.name}`);
          table[`${model.name}/${tensor.name}`] = compareTensors(openCv, tensor.data);
        }
      });
      measured['opencv-darknet'] = table;
      expect(Object.keys(table)).toHaveLength(3);
      expect(aboveTolerance(table, TOLERANCE)).toEqual({});
    },
    120_000,
  );

  it('the ONNX exports match on onnxruntime-node', async () => {
    const table = await onnxDifferences(models, inputs, references);
    measured['onnx'] = table;
    expect(Object.keys(table)).toHaveLength(3);
    expect(aboveTolerance(table, TOLERANCE)).toEqual({});
  }, 120_000);

  itWithOpenCv(
    "the Caffe exports match on OpenCV's Caffe importer",
    () => {
      const table = caffeDifferences(directory, models, inputs, references);
      measured['caffe'] = table;
      expect(Object.keys(table)).toHaveLength(3);
      expect(aboveTolerance(table, TOLERANCE)).toEqual({});
    },
    120_000,
  );
});
