import { parseCfg } from '../network/parse-network';
import { randomWeights } from './random-weights';
import { serialiseWeights } from './write-weights';

/** The region head of the expression networks: 5 anchors x (4 coordinates + objectness + 4 expressions). */
const EXPRESSION_HEAD = `[convolutional]
filters=45
size=1
stride=1
pad=1
activation=linear

[region]
anchors=1.08,1.19,3.42,4.41,6.63,11.38,9.42,5.11,16.62,10.52
bias_match=1
classes=4
coords=4
num=5
softmax=1
`;

/**
 * The cfg of a small YOLO v2 shaped expression network (tests and benchmarks): a `inputSize` square input, one
 * batch-normalised 3x3 leaky convolution + 2x2 max-pool stage per entry of `stageFilters`, then the four-expression
 * region head. It converts and benchmarks in seconds; wider stages give bigger weights files.
 */
export function smallExpressionCfg(stageFilters: readonly number[], inputSize = 96): string {
  const stages = stageFilters
    .map(
      (filters) =>
        `[convolutional]\nbatch_normalize=1\nfilters=${filters}\nsize=3\nstride=1\npad=1\nactivation=leaky\n\n` +
        `[maxpool]\nsize=2\nstride=2\n`,
    )
    .join('\n');
  const net = `[net]\nbatch=1\nsubdivisions=1\nwidth=${inputSize}\nheight=${inputSize}\nchannels=3\n`;
  return `${net}\n${stages}\n${EXPRESSION_HEAD}`;
}

/** `smallExpressionCfg(stageFilters, inputSize)` with its seeded random weights serialised as a darknet file. */
export function smallExpressionModel(
  stageFilters: readonly number[],
  seed: number,
  inputSize = 96,
): { cfg: string; weights: Buffer } {
  const cfg = smallExpressionCfg(stageFilters, inputSize);
  const network = parseCfg(cfg, 'small-expression.cfg');
  return { cfg, weights: Buffer.from(serialiseWeights(network, randomWeights(network, seed))) };
}
