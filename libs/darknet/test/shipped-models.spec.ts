import { mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { inspectNetwork, loadCfg, randomWeights, replace3x3With1x1, saveWeights, type Network } from '../src';
import { withoutPositions } from './support/normalise';
import { openCvAvailable, runOpenCv, type OpenCvResult } from './support/opencv-oracle';

const MODELS = join(__dirname, '..', 'models');
const base = loadCfg(join(MODELS, 'yolov2-expression.cfg'));
const oneByOne = loadCfg(join(MODELS, 'yolov2-expression-1x1.cfg'));
const tiny = loadCfg(join(MODELS, 'yolov2-tiny-expression.cfg'));
const PAPER_1X1_LAYERS = [3, 7, 11, 15, 21, 23, 25];

/** Hand count: [input channels, filters, kernel, output side] per conv, params = weights + one bias per filter. */
function handCount(convs: ReadonlyArray<readonly [number, number, number, number]>): {
  params: number;
  flops: number;
} {
  return convs.reduce(
    (total, [inputs, filters, kernel, side]) => ({
      params: total.params + filters * inputs * kernel * kernel + filters,
      flops: total.flops + 2 * filters * inputs * kernel * kernel * side * side,
    }),
    { params: 0, flops: 0 },
  );
}

/** The YOLO v2 (VOC layout) convolutions, with kernel sizes per paper layer number overridable. */
function yolov2Convs(oneByOneLayers: ReadonlySet<number>): Array<[number, number, number, number]> {
  const k = (paperLayer: number): number => (oneByOneLayers.has(paperLayer) ? 1 : 3);
  return [
    [3, 32, 3, 416],
    [32, 64, k(3), 208],
    [64, 128, 3, 104],
    [128, 64, 1, 104],
    [64, 128, k(7), 104],
    [128, 256, 3, 52],
    [256, 128, 1, 52],
    [128, 256, k(11), 52],
    [256, 512, 3, 26],
    [512, 256, 1, 26],
    [256, 512, k(15), 26],
    [512, 256, 1, 26],
    [256, 512, 3, 26],
    [512, 1024, 3, 13],
    [1024, 512, 1, 13],
    [512, 1024, k(21), 13],
    [1024, 512, 1, 13],
    [512, 1024, k(23), 13],
    [1024, 1024, 3, 13],
    [1024, 1024, k(25), 13],
    [512, 64, 1, 26],
    [1280, 1024, 3, 13],
    [1024, 45, 1, 13],
  ];
}

describe('shipped networks', () => {
  it('YOLO v2 expression (paper Table 1): 416x416 input, 13x13x45 region input, hand-counted params/FLOPs', () => {
    const report = inspectNetwork(base);
    expect(base.inputShape).toEqual([3, 416, 416]);
    expect(base.layers).toHaveLength(32);
    expect(base.layers[30]?.outputShape).toEqual([45, 13, 13]);
    expect(base.layers[31]?.type).toBe('region');
    expect(report.totals).toEqual(handCount(yolov2Convs(new Set())));
    expect(report.totals).toEqual({ params: 50_563_053, flops: 29_332_645_888 });
  });

  it('YOLO v2 1x1 variant (paper Table 2) equals the transform applied to Table 1', () => {
    const result = replace3x3With1x1(base, PAPER_1X1_LAYERS);
    expect(withoutPositions(result.network)).toEqual(withoutPositions(oneByOne));
    expect(inspectNetwork(oneByOne).totals).toEqual(handCount(yolov2Convs(new Set(PAPER_1X1_LAYERS))));
    expect(inspectNetwork(oneByOne).totals).toEqual({ params: 32_393_197, flops: 17_991_247_872 });
    // The paper reports 40.24 % fewer parameters; darknet's yolov2-voc layout with 4 classes gives 35.94 %.
    expect(result.reduction.params).toBeCloseTo(0.35935, 5);
    expect(result.reduction.flops).toBeCloseTo(0.38665, 5);
  });

  it('YOLO v2-tiny expression: hand-counted params/FLOPs including the stride-1 maxpool', () => {
    expect(tiny.layers[11]?.outputShape).toEqual([512, 13, 13]);
    expect(inspectNetwork(tiny).totals).toEqual(
      handCount([
        [3, 16, 3, 416],
        [16, 32, 3, 208],
        [32, 64, 3, 104],
        [64, 128, 3, 52],
        [128, 256, 3, 26],
        [256, 512, 3, 13],
        [512, 1024, 3, 13],
        [1024, 1024, 3, 13],
        [1024, 45, 1, 13],
      ]),
    );
    expect(inspectNetwork(tiny).totals).toEqual({ params: 15_776_717, flops: 6_943_352_832 });
  });

  it('names file lists the four expressions', () => {
    expect(readFileSync(join(MODELS, 'expressions.names'), 'utf8')).toBe(
      'Happiness\nSadness\nSurprise\nAnger\n',
    );
  });
});

const describeWithOpenCv = openCvAvailable() ? describe : describe.skip;

describeWithOpenCv('shipped networks against OpenCV (independent layer shapes and kernel sizes)', () => {
  let directory: string;
  let results: OpenCvResult[];
  const networks: Network[] = [base, oneByOne, tiny];
  beforeAll(() => {
    directory = mkdtempSync(join(tmpdir(), 'darknet-shipped-'));
    results = runOpenCv(
      networks.map((network, i) => {
        const weights = join(directory, `${i}.weights`);
        saveWeights(network, randomWeights(network, i), weights);
        return { cfg: network.source, weights, input: network.inputShape };
      }),
    );
  }, 120_000);
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it.each([0, 1, 2])('network %i: params and FLOPs recomputed from OpenCV equal inspect', (i) => {
    const result = results[i];
    const network = networks[i];
    if (!result || !network || 'error' in result) throw new Error(`OpenCV failed: ${JSON.stringify(result)}`);
    let params = 0;
    let flops = 0;
    for (const [, layer] of Object.entries(result.layers)) {
      if (layer.conv_weights === undefined || layer.conv_filters === undefined || !layer.output) continue;
      const [, height, width] = layer.output;
      params += layer.conv_weights + layer.conv_filters;
      flops += 2 * layer.conv_weights * (height ?? 0) * (width ?? 0);
    }
    expect({ params, flops }).toEqual(inspectNetwork(network).totals);
  });
});
