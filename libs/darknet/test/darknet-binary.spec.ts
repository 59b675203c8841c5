import { spawnSync } from 'child_process';
import fc from 'fast-check';
import { mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { layerCost, loadCfg, parseCfg, randomWeights, saveWeights, type Network } from '../src';
import { writeFileAtomic } from '../src/util/write-file-atomic';
import { randomCfgArbitrary } from './support/random-cfg';

/**
 * darknet itself as the oracle (pjreddie/darknet built with `make`, CPU only). Runs when DARKNET_BIN names the
 * binary: `DARKNET_BIN=/path/to/darknet npx jest -c libs/darknet/jest.config.js darknet-binary`.
 * darknet prints every layer's output shape (and each convolution's BFLOPs) while parsing, and
 * `darknet partial <cfg> <weights> <out> <n>` loads our .weights and writes them back: byte-identical output
 * means darknet expects exactly as many floats per layer as we wrote.
 */
const DARKNET_BIN = process.env['DARKNET_BIN'];
const describeWithDarknet = DARKNET_BIN ? describe : describe.skip;

interface DarknetLayerLine {
  readonly output?: number[];
  readonly bflops?: string;
}

/** Parses darknet's per-layer printout: `<index> <type> ... -> W x H x C [BFLOPs]`. */
function parseDarknetLayers(stderr: string): Map<number, DarknetLayerLine> {
  const layers = new Map<number, DarknetLayerLine>();
  for (const line of stderr.split('\n')) {
    const match = /^\s*(\d+)\s+(\S.*)$/.exec(line);
    const index = match?.[1];
    const rest = match?.[2];
    if (index === undefined || rest === undefined) continue;
    const bflops = /([\d.]+) BFLOPs/.exec(rest)?.[1];
    const arrow = rest.indexOf('->');
    const afterArrow = arrow >= 0 ? rest.slice(arrow + 2).replace(/[\d.]+ BFLOPs/, '') : '';
    const numbers = (afterArrow.match(/\d+/g) ?? []).map(Number);
    // "W x H x C" for image outputs; a single count for avgpool (C) and connected (outputs).
    const [first = 0, height = 0, channels = 0] = numbers;
    const output =
      numbers.length === 3 ? [channels, height, first] : numbers.length === 1 ? [first, 1, 1] : undefined;
    layers.set(Number(index), { output, bflops });
  }
  return layers;
}

describeWithDarknet('shapes, FLOPs and weight sizes agree with the darknet binary', () => {
  let directory: string;
  beforeAll(() => {
    directory = mkdtempSync(join(tmpdir(), 'darknet-binary-'));
  });
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  function check(network: Network, cfgPath: string, name: string): void {
    const weights = join(directory, `${name}.weights`);
    const roundTrip = join(directory, `${name}.out.weights`);
    saveWeights(network, randomWeights(network, 9), weights);
    const run = spawnSync(DARKNET_BIN ?? 'darknet', ['partial', cfgPath, weights, roundTrip, '100000'], {
      encoding: 'utf8',
      maxBuffer: 16 * 1024 * 1024,
    });
    expect({ name, status: run.status }).toEqual({ name, status: 0 });
    const printed = parseDarknetLayers(run.stderr);
    for (const layer of network.layers) {
      const line = printed.get(layer.index);
      expect({ name, index: layer.index, printed: line !== undefined }).toEqual({
        name,
        index: layer.index,
        printed: true,
      });
      if (line?.output && layer.type !== 'region' && layer.type !== 'yolo') {
        expect({ name, index: layer.index, output: line.output }).toEqual({
          name,
          index: layer.index,
          output: [...layer.outputShape],
        });
      }
      if (line?.bflops !== undefined) {
        expect({ name, index: layer.index, bflops: line.bflops }).toEqual({
          name,
          index: layer.index,
          bflops: (layerCost(layer).flops / 1e9).toFixed(3),
        });
      }
    }
    expect(readFileSync(roundTrip).equals(readFileSync(weights))).toBe(true);
  }

  it.each(['yolov2-expression.cfg', 'yolov2-expression-1x1.cfg', 'yolov2-tiny-expression.cfg'])(
    '%s',
    (file) => {
      const path = join(__dirname, '..', 'models', file);
      check(loadCfg(path), path, file);
    },
  );

  it('random layer stacks', () => {
    const texts = fc.sample(randomCfgArbitrary({ openCvCompatible: false }), { numRuns: 60, seed: 1870 });
    texts.forEach((text, i) => {
      const cfg = join(directory, `random-${i}.cfg`);
      writeFileAtomic(cfg, text);
      check(parseCfg(text, cfg), cfg, `random-${i}`);
    });
  });
});
