import { InvalidArgumentError, type Command } from 'commander';
import { DEFAULT_VERIFY_TOLERANCE, formatVerifyReport, verifyExport } from '@emofleet/darknet';
import { CliError } from '../../cli-error';

/** Exit code when the export ran but differs from the reference by more than the tolerance. */
export const VERIFY_MISMATCH_EXIT_CODE = 2;

interface VerifyCommandOptions {
  readonly inputs: number;
  readonly tolerance: number;
  readonly seed: number;
}

function positiveInteger(value: string): number {
  const parsed = Number(value);
  if (!/^\d+$/.test(value) || parsed < 1)
    throw new InvalidArgumentError(`'${value}' is not a positive integer`);
  return parsed;
}

function nonNegativeNumber(value: string): number {
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed) || parsed < 0) {
    throw new InvalidArgumentError(`'${value}' is not a non-negative number`);
  }
  return parsed;
}

export function registerVerifyCommand(program: Command): void {
  program
    .command('verify')
    .description(
      'Run the darknet reference forward pass and an export (ONNX via onnxruntime, Caffe via OpenCV) on the same ' +
        `seeded random inputs; print the max abs/rel difference; exit ${VERIFY_MISMATCH_EXIT_CODE} above the tolerance`,
    )
    .argument('<cfg>', 'darknet .cfg file')
    .argument('<weights>', 'darknet .weights file')
    .argument('<exported>', 'the export: .onnx, or the Caffe .prototxt / .caffemodel')
    .option('--inputs <n>', 'number of random inputs', positiveInteger, 3)
    .option('--seed <n>', 'seed of the random inputs', positiveInteger, 1)
    .option(
      '--tolerance <rel>',
      'largest acceptable relative difference, max|export - reference| / max|reference|',
      nonNegativeNumber,
      DEFAULT_VERIFY_TOLERANCE,
    )
    .action(async (cfg: string, weights: string, exported: string, options: VerifyCommandOptions) => {
      const report = await verifyExport(cfg, weights, exported, options);
      process.stdout.write(formatVerifyReport(report));
      if (!report.passed) {
        throw new CliError(
          `the export differs from the reference by ${report.maxRel.toExponential(3)} (relative), above the tolerance ${report.tolerance}`,
          VERIFY_MISMATCH_EXIT_CODE,
        );
      }
    });
}
