/**
 * @jest-environment ./test/support/onnxruntime-environment.js
 */
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { ExportError, exportCaffe } from '../src';
import {
  aboveTolerance,
  caffeDifferences,
  inputsFor,
  onnxDifferences,
  referenceOutputs,
} from './support/compare-exports';
import { SMALL_CFGS, TOLERANCE, writeModel, type ModelFixture } from './support/export-fixtures';
import { openCvAvailable } from './support/opencv-oracle';
import { buildRandomCfg, cfgSeedArbitrary } from './support/random-cfg';

const itWithOpenCv = openCvAvailable() ? it : it.skip;

describe('exports of small networks vs the reference forward pass', () => {
  let directory: string;
  let models: ModelFixture[];
  let caffeModels: ModelFixture[];
  let inputs: Float32Array[][];
  let caffeInputs: Float32Array[][];
  let references: ReturnType<typeof referenceOutputs>;
  let caffeReferences: ReturnType<typeof referenceOutputs>;

  beforeAll(() => {
    directory = mkdtempSync(join(tmpdir(), 'darknet-exports-'));
    const randomTexts = fc.sample(
      cfgSeedArbitrary.map((seed) => buildRandomCfg(seed, { openCvCompatible: false })),
      { numRuns: 30, seed: 1870 },
    );
    models = [
      ...Object.entries(SMALL_CFGS).map(([name, text], i) => writeModel(directory, name, text, 50 + i)),
      ...randomTexts.map((text, i) => writeModel(directory, `random-${i}`, text, i)),
    ];
    inputs = inputsFor(models, 2);
    references = referenceOutputs(models, inputs);
    // Caffe's symmetric, ceil-rounded pooling cannot express every darknet maxpool padding; those networks
    // must be refused with the layer named (checked here) and are left out of the numeric comparison.
    const expressible = models.map((model) => {
      try {
        exportCaffe(model.network, model.weights);
        return true;
      } catch (error) {
        if (error instanceof ExportError && error.message.includes('no Caffe pooling padding')) return false;
        throw error;
      }
    });
    caffeModels = models.filter((_, i) => expressible[i]);
    caffeInputs = inputs.filter((_, i) => expressible[i]);
    caffeReferences = references.filter((_, i) => expressible[i]);
  });
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it('ONNX on onnxruntime-node matches within 1e-4 relative', async () => {
    const table = await onnxDifferences(models, inputs, references);
    expect(Object.keys(table)).toHaveLength(models.length + 1); // two-heads has raw and raw_1
    expect(aboveTolerance(table, TOLERANCE)).toEqual({});
  });

  itWithOpenCv("Caffe on OpenCV's Caffe importer matches within 1e-4 relative", () => {
    expect(caffeModels.length).toBeGreaterThan(models.length / 2);
    expect(caffeModels.map((model) => model.name)).toEqual(expect.arrayContaining(Object.keys(SMALL_CFGS)));
    const table = caffeDifferences(directory, caffeModels, caffeInputs, caffeReferences);
    expect(aboveTolerance(table, TOLERANCE)).toEqual({});
  });
});
