// A darknet network small enough for emulation whose detection does not depend on the picture: 16x16 input,
// one 16x16 max-pool (no padding, so Caffe export can mirror it) to a 1x1 grid, one 1x1 convolution with zero
// kernels, and a YOLOv2 [region] layer. The convolution's biases are the region outputs (tx, ty, tw, th,
// objectness, class logits), so every frame yields exactly one box (centred, half the frame) of the chosen class
// with score ≈ 0.97. The agent smoke test uploads two of them with different classes, so events and switches are
// visible end to end.
import { parseCfg, randomWeights, serialiseWeights } from '@emofleet/darknet';

export const EXPRESSION_NAMES = ['Happiness', 'Sadness', 'Surprise', 'Anger'];

export const CONSTANT_EXPRESSION_CFG = `[net]
width=16
height=16
channels=3

[maxpool]
size=16
stride=16
padding=0

[convolutional]
size=1
stride=1
pad=0
filters=${5 + EXPRESSION_NAMES.length}
activation=linear

[region]
anchors=0.5,0.5
bias_match=1
classes=${EXPRESSION_NAMES.length}
coords=4
num=1
softmax=1
thresh=0.2
`;

/** cfg, weights and names of the network that always detects `label`. */
export function constantExpressionModel(label) {
  const classIndex = EXPRESSION_NAMES.indexOf(label);
  if (classIndex < 0) throw new Error(`${label} is not one of ${EXPRESSION_NAMES.join(', ')}`);
  const network = parseCfg(CONSTANT_EXPRESSION_CFG, 'constant-expression.cfg');
  const weights = randomWeights(network, 1);
  for (const layer of weights.layers) {
    if (layer === null) continue;
    layer.weights.fill(0);
    // tx = ty = 0 (centre of the only cell), tw = th = 0 (the anchor's size), objectness logit 5.
    layer.biases.fill(0);
    layer.biases[4] = 5;
    layer.biases[5 + classIndex] = 5;
  }
  return {
    cfg: Buffer.from(CONSTANT_EXPRESSION_CFG),
    weights: Buffer.from(serialiseWeights(network, weights)),
    names: Buffer.from(`${EXPRESSION_NAMES.join('\n')}\n`),
  };
}
