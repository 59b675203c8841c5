import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { inspectNetwork, parseCfg, randomWeights, saveWeights } from '../src';
import { writeFileAtomic } from '../src/util/write-file-atomic';
import { openCvAvailable, runOpenCv } from './support/opencv-oracle';

function conv(filters: number, size: number, activation = 'leaky', batchNormalize = true): string {
  const bn = batchNormalize ? 'batch_normalize=1\n' : '';
  return `[convolutional]\n${bn}filters=${filters}\nsize=${size}\nstride=1\npad=1\nactivation=${activation}\n`;
}

const maxpool = (stride: number): string => `[maxpool]\nsize=2\nstride=${stride}\n`;
const yolo = (mask: string): string =>
  `[yolo]\nmask = ${mask}\nanchors = 10,14,  23,27,  37,58,  81,82,  135,169,  344,319\nclasses=4\nnum=6\njitter=.3\nignore_thresh = .7\ntruth_thresh = 1\nrandom=1\n`;

/** YOLO v3-tiny with 4 classes (two heads, upsample and a route back to layer 8). */
const V3_TINY = [
  '[net]\nbatch=1\nsubdivisions=1\nwidth=416\nheight=416\nchannels=3\nmomentum=0.9\ndecay=0.0005\nlearning_rate=0.001\nburn_in=1000\nmax_batches = 500200\npolicy=steps\nsteps=400000,450000\nscales=.1,.1\n',
  conv(16, 3),
  maxpool(2),
  conv(32, 3),
  maxpool(2),
  conv(64, 3),
  maxpool(2),
  conv(128, 3),
  maxpool(2),
  conv(256, 3),
  maxpool(2),
  conv(512, 3),
  maxpool(1),
  conv(1024, 3),
  conv(256, 1),
  conv(512, 3),
  conv(27, 1, 'linear', false),
  yolo('3,4,5'),
  '[route]\nlayers = -4\n',
  conv(128, 1),
  '[upsample]\nstride=2\n',
  '[route]\nlayers = -1, 8\n',
  conv(256, 3),
  conv(27, 1, 'linear', false),
  yolo('0,1,2'),
].join('\n');

describe('YOLO v3-tiny family', () => {
  const network = parseCfg(V3_TINY, 'yolov3-tiny-expression.cfg');

  it('infers both heads and the upsample/route join', () => {
    expect(network.layers).toHaveLength(24);
    expect(network.layers[15]?.outputShape).toEqual([27, 13, 13]);
    expect(network.layers[19]?.outputShape).toEqual([128, 26, 26]);
    expect(network.layers[20]?.outputShape).toEqual([384, 26, 26]);
    expect(network.layers[22]?.outputShape).toEqual([27, 26, 26]);
    const head = network.layers[23];
    expect(head?.type === 'yolo' && head.mask).toEqual([0, 1, 2]);
  });

  it('has the hand-counted parameter total', () => {
    const convs: Array<[number, number, number]> = [
      [3, 16, 3],
      [16, 32, 3],
      [32, 64, 3],
      [64, 128, 3],
      [128, 256, 3],
      [256, 512, 3],
      [512, 1024, 3],
      [1024, 256, 1],
      [256, 512, 3],
      [512, 27, 1],
      [256, 128, 1],
      [384, 256, 3],
      [256, 27, 1],
    ];
    const params = convs.reduce((sum, [inputs, filters, k]) => sum + filters * inputs * k * k + filters, 0);
    expect(inspectNetwork(network).totals.params).toBe(params);
  });

  const itWithOpenCv = openCvAvailable() ? it : it.skip;
  itWithOpenCv('matches OpenCV layer by layer', () => {
    const directory = mkdtempSync(join(tmpdir(), 'darknet-v3tiny-'));
    try {
      const cfg = join(directory, 'v3tiny.cfg');
      const weights = join(directory, 'v3tiny.weights');
      writeFileAtomic(cfg, V3_TINY);
      saveWeights(network, randomWeights(network, 3), weights);
      const [result] = runOpenCv([{ cfg, weights, input: network.inputShape }]);
      if (!result || 'error' in result) throw new Error(`OpenCV failed: ${JSON.stringify(result)}`);
      for (const layer of network.layers) {
        if (layer.type === 'yolo') continue;
        expect([layer.index, result.layers[String(layer.index)]?.output]).toEqual([
          layer.index,
          [...layer.outputShape],
        ]);
      }
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
