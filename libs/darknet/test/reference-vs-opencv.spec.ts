import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { compareTensors, forwardReference, rawOutputs, runOpenCvForward, seededInputs } from '../src';
import { SMALL_CFGS, TOLERANCE, writeModel, type ModelFixture } from './support/export-fixtures';
import { openCvAvailable } from './support/opencv-oracle';
import { buildRandomCfg, cfgSeedArbitrary } from './support/random-cfg';

const describeWithOpenCv = openCvAvailable() ? describe : describe.skip;

/** Reference raw output vs OpenCV's darknet importer for each model, on two seeded inputs each (one Python run). */
function compareWithOpenCvDarknet(models: readonly ModelFixture[]): void {
  const inputs = models.map((model, i) => seededInputs(model.network, 2, 100 + i));
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
  const failures: string[] = [];
  models.forEach((model, i) => {
    (inputs[i] ?? []).forEach((input, item) => {
      for (const raw of forwardReference(model.network, model.weights, input).raw) {
        const openCv = results[i]?.get(raw.name)?.[item];
        if (!openCv) throw new Error(`${model.name}: OpenCV returned no ${raw.name}`);
        const { maxAbs, maxRel } = compareTensors(openCv, raw.data);
        if (!(maxRel <= TOLERANCE)) {
          failures.push(`${model.cfgPath} input ${item} ${raw.name}: max abs ${maxAbs}, max rel ${maxRel}`);
        }
      }
    });
  });
  expect(failures).toEqual([]);
}

describeWithOpenCv("reference forward pass vs OpenCV's darknet importer", () => {
  let directory: string;
  beforeAll(() => {
    directory = mkdtempSync(join(tmpdir(), 'darknet-reference-'));
  });
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it('agrees on a network with BN, stride-1 maxpool, shortcut, route, reorg, upsample and region', () => {
    const text = SMALL_CFGS['yolo-v2-features'] ?? '';
    compareWithOpenCvDarknet([writeModel(directory, 'yolo-v2-features', text, 7)]);
  });

  it('agrees on random layer stacks', () => {
    const texts = fc.sample(
      cfgSeedArbitrary.map((seed) => buildRandomCfg(seed, { openCvCompatible: true })),
      { numRuns: 25, seed: 4242 },
    );
    compareWithOpenCvDarknet(texts.map((text, i) => writeModel(directory, `random-${i}`, text, i)));
  });
});
