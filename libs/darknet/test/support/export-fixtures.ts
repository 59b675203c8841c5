import { join } from 'path';
import {
  parseCfg,
  randomWeights,
  saveWeights,
  writeFileAtomic,
  type Network,
  type NetworkWeights,
} from '../../src';

/** The relative tolerance of the issue: max|export - reference| / max(1e-6, max|reference|). */
export const TOLERANCE = 1e-4;

/** A network with seeded random weights, also written to `<directory>/<name>.cfg` / `.weights`. */
export interface ModelFixture {
  readonly name: string;
  readonly network: Network;
  readonly weights: NetworkWeights;
  readonly cfgPath: string;
  readonly weightsPath: string;
}

export function writeModel(directory: string, name: string, cfgText: string, seed: number): ModelFixture {
  const cfgPath = join(directory, `${name}.cfg`);
  const weightsPath = join(directory, `${name}.weights`);
  writeFileAtomic(cfgPath, cfgText);
  const network = parseCfg(cfgText, cfgPath);
  const weights = randomWeights(network, seed);
  saveWeights(network, weights, weightsPath);
  return { name, network, weights, cfgPath, weightsPath };
}

/** Hand-written networks covering every layer type and option the exports handle. */
export const SMALL_CFGS: Readonly<Record<string, string>> = {
  // Layers OpenCV 4.6's darknet importer understands: BN, grouped conv, leaky/relu/logistic/linear,
  // maxpool incl. tiny's size=2 stride=1, shortcut, single and multi-layer route, reorg, upsample, region.
  'yolo-v2-features': `
[net]
width=16
height=16
channels=3

[convolutional]
batch_normalize=1
filters=8
size=3
stride=1
pad=1
activation=relu

[convolutional]
filters=8
size=3
stride=1
pad=1
groups=2
activation=leaky

[maxpool]
size=2
stride=2

[convolutional]
batch_normalize=1
filters=16
size=3
stride=1
pad=1
activation=logistic

[maxpool]
size=2
stride=1

[shortcut]
from=-2
activation=leaky

[route]
layers=-4

[reorg]
stride=2

[route]
layers=4

[maxpool]
size=2
stride=2

[route]
layers=-3,-1

[upsample]
stride=2

[convolutional]
filters=14
size=1
stride=1
pad=1
activation=linear

[region]
anchors=1,1.5,2,2.5
classes=2
coords=4
num=2
softmax=1
`,
  // Layers only the exports handle: grouped and depthwise conv, relu, strided conv with explicit padding,
  // global average pooling, connected with batch norm, softmax in groups with a temperature.
  classifier: `
[net]
width=12
height=10
channels=3

[convolutional]
filters=6
size=3
stride=1
pad=1
activation=relu

[convolutional]
batch_normalize=1
filters=6
size=3
stride=1
pad=1
groups=6
activation=leaky

[convolutional]
filters=8
size=3
stride=2
padding=0
groups=2
activation=logistic

[maxpool]
size=2
stride=2

[connected]
output=12
batch_normalize=1
activation=leaky

[connected]
output=6
activation=linear

[softmax]
groups=2
temperature=2
`,
  // YOLO v3-tiny's shape: two [yolo] heads, upsample with a scale, route across them.
  'two-heads': `
[net]
width=16
height=16
channels=3

[convolutional]
batch_normalize=1
filters=8
size=3
stride=1
pad=1
activation=leaky

[maxpool]
size=2
stride=2

[convolutional]
batch_normalize=1
filters=16
size=3
stride=1
pad=1
activation=leaky

[maxpool]
size=2
stride=2

[convolutional]
filters=21
size=1
stride=1
pad=1
activation=linear

[yolo]
mask=2,3,4
anchors=10,14,23,27,37,58,81,82,135,169
classes=2
num=5

[route]
layers=-3

[upsample]
stride=2
scale=0.5

[route]
layers=-1,2

[convolutional]
filters=21
size=1
stride=1
pad=1
activation=linear

[yolo]
mask=0,1,2
anchors=10,14,23,27,37,58,81,82,135,169
classes=2
num=5
`,
};
