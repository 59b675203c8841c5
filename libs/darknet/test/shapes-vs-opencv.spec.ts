import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { parseCfg, randomWeights, saveWeights, type Network } from '../src';
import { writeFileAtomic } from '../src/util/write-file-atomic';
import { openCvAvailable, runOpenCv } from './support/opencv-oracle';
import { cfgSeedArbitrary, buildRandomCfg } from './support/random-cfg';

const describeWithOpenCv = openCvAvailable() ? describe : describe.skip;

describeWithOpenCv("shape inference agrees with OpenCV's darknet importer", () => {
  let directory: string;
  beforeAll(() => {
    directory = mkdtempSync(join(tmpdir(), 'darknet-opencv-'));
  });
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  // fast-check generates the stacks (seeded, reproducible); all of them go to OpenCV in one Python process,
  // which rules out per-case shrinking but keeps the test at a few seconds.
  it('on random layer stacks (one Python run for all cases)', () => {
    const texts = fc.sample(
      cfgSeedArbitrary.map((seed) => buildRandomCfg(seed, { openCvCompatible: true })),
      { numRuns: 60, seed: 20190401 },
    );
    const networks: Network[] = texts.map((text, i) => parseCfg(text, `random-${i}.cfg`));
    const cases = networks.map((network, i) => {
      const cfg = join(directory, `random-${i}.cfg`);
      const weights = join(directory, `random-${i}.weights`);
      writeFileAtomic(cfg, texts[i] ?? '');
      saveWeights(network, randomWeights(network, i), weights);
      return { cfg, weights, input: network.inputShape };
    });
    const results = runOpenCv(cases);
    results.forEach((result, i) => {
      const network = networks[i];
      if (!network) throw new Error('result without a network');
      if ('error' in result) throw new Error(`OpenCV rejected case ${i}:\n${texts[i]}\n${result.error}`);
      for (const layer of network.layers) {
        if (layer.type === 'region' || layer.type === 'yolo') continue;
        const openCv = result.layers[String(layer.index)];
        expect({ case: i, layer: layer.index, output: openCv?.output }).toEqual({
          case: i,
          layer: layer.index,
          output: [...layer.outputShape],
        });
      }
    });
  });
});
