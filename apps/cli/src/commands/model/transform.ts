import { type Command } from 'commander';
import {
  foldBatchNorm,
  loadCfg,
  loadWeights,
  replace3x3With1x1,
  saveWeights,
  serialiseCfg,
  writeFileAtomic,
  type LayerCost,
} from '@emofleet/darknet';
import { CliError } from '../../cli-error';

interface TransformOptions {
  out: string;
  replace3x3?: string;
  foldBn?: boolean;
  weights?: string;
  weightsOut?: string;
}

/** Parses `3,7,11` strictly: positive integers separated by commas. */
export function parseLayerNumbers(list: string): number[] {
  const items = list.split(',').map((item) => item.trim());
  const bad = items.find((item) => !/^[1-9]\d*$/.test(item));
  if (bad !== undefined) {
    throw new CliError(`--replace-3x3: '${bad}' is not a layer number (expected e.g. 3,7,11,15,21,23,25)`, 2);
  }
  return items.map(Number);
}

function formatCost(cost: LayerCost): string {
  return `${cost.params.toLocaleString('en-US')} params, ${(cost.flops / 1e9).toFixed(3)} BFLOPs`;
}

export function registerTransformCommand(model: Command): void {
  model
    .command('transform <cfg>')
    .description("Apply the paper's transforms: 3x3 -> 1x1 convolutions, or fold batch norm into the weights")
    .requiredOption('-o, --out <cfg>', 'where to write the transformed cfg')
    .option(
      '--replace-3x3 <layers>',
      'paper layer numbers (1-based over all layers) of 3x3 convs to make 1x1',
    )
    .option(
      '--fold-bn',
      'fold batch norm into conv/connected weights and biases (needs --weights, --weights-out)',
    )
    .option('-w, --weights <file>', 'input .weights (for --fold-bn)')
    .option('--weights-out <file>', 'output .weights (for --fold-bn)')
    .action((cfgPath: string, options: TransformOptions) => {
      if (Boolean(options.replace3x3) === Boolean(options.foldBn)) {
        throw new CliError('choose exactly one transform: --replace-3x3 <layers> or --fold-bn', 2);
      }
      const network = loadCfg(cfgPath);
      if (options.replace3x3) {
        if (options.weights || options.weightsOut) {
          throw new CliError(
            '--replace-3x3 changes kernel shapes: weights cannot be carried over, retrain instead',
            2,
          );
        }
        const result = replace3x3With1x1(network, parseLayerNumbers(options.replace3x3));
        writeFileAtomic(options.out, serialiseCfg(result.network));
        const percent = (fraction: number): string => `${(fraction * 100).toFixed(2)}%`;
        process.stdout.write(
          [
            `replaced darknet layers ${result.replacedLayerIndices.join(', ')} with 1x1 convolutions -> ${options.out}`,
            `before: ${formatCost(result.before)}`,
            `after:  ${formatCost(result.after)}`,
            `reduction: ${percent(result.reduction.params)} params, ${percent(result.reduction.flops)} FLOPs`,
            result.notice,
            '',
          ].join('\n'),
        );
        return;
      }
      if (!options.weights || !options.weightsOut) {
        throw new CliError('--fold-bn needs --weights <in> and --weights-out <out>', 2);
      }
      const folded = foldBatchNorm(network, loadWeights(network, options.weights));
      saveWeights(folded.network, folded.weights, options.weightsOut);
      writeFileAtomic(options.out, serialiseCfg(folded.network));
      process.stdout.write(
        `folded batch norm (darknet epsilon: sqrt(variance) + 1e-6) -> ${options.out}, ${options.weightsOut}\n`,
      );
    });
}
