import { type Command } from 'commander';
import { createHash } from 'crypto';
import { readFileSync } from 'fs';
import { planEngineBuild, type BuildModel, type Precision } from '@emofleet/darknet';
import { CliError } from '../../cli-error';

interface PlanOptions {
  model: string;
  caffemodel?: string;
  outputBlob?: string;
  arch: string;
  tensorrt?: string;
  jetpack?: string;
  precision: string;
  workspace: string;
  calib?: string;
  engineDir: string;
  json?: boolean;
}

const PRECISIONS: readonly Precision[] = ['fp32', 'fp16', 'int8'];

function sha256Of(...paths: string[]): string {
  const hash = createHash('sha256');
  for (const path of paths) hash.update(readFileSync(path));
  return hash.digest('hex');
}

function modelFrom(options: PlanOptions): BuildModel {
  if (options.model.endsWith('.onnx')) {
    if (options.caffemodel || options.outputBlob) {
      throw new CliError('--caffemodel and --output-blob only apply to Caffe models (.prototxt)', 2);
    }
    return { format: 'onnx', path: options.model, sha256: sha256Of(options.model) };
  }
  if (options.model.endsWith('.prototxt')) {
    if (!options.caffemodel || !options.outputBlob) {
      throw new CliError('a Caffe model needs --caffemodel <file> and --output-blob <name>', 2);
    }
    return {
      format: 'caffe',
      prototxt: options.model,
      caffemodel: options.caffemodel,
      outputBlob: options.outputBlob,
      // One identity for the pair: sha256 over the prototxt bytes followed by the caffemodel bytes.
      sha256: sha256Of(options.model, options.caffemodel),
    };
  }
  throw new CliError(`--model ${options.model}: expected a .onnx or .prototxt file`, 2);
}

export function registerPlanCommand(model: Command): void {
  model
    .command('plan')
    .description('Print the exact trtexec command and engine cache key for a device target')
    .requiredOption('-m, --model <file>', 'ONNX model (.onnx) or Caffe deploy file (.prototxt)')
    .option('--caffemodel <file>', 'Caffe weights (with a .prototxt model)')
    .option('--output-blob <name>', 'Caffe output blob to mark as network output')
    .requiredOption('--arch <sm_XX>', 'GPU architecture, e.g. sm_53 for Jetson TX1')
    .option('--tensorrt <version>', 'TensorRT version on the device, e.g. 8.2')
    .option('--jetpack <version>', 'JetPack release on the device, e.g. 4.6.1 (implies the TensorRT version)')
    .option('--precision <fp32|fp16|int8>', 'engine precision', 'fp16')
    .option('--workspace <MiB>', 'builder workspace in MiB', '1024')
    .option('--calib <file>', 'INT8 calibration cache (int8 only)')
    .option('--engine-dir <dir>', 'directory for the engine file', '.')
    .option('--json', 'print the plan as JSON')
    .action((options: PlanOptions) => {
      const precision = PRECISIONS.find((candidate) => candidate === options.precision);
      if (!precision) throw new CliError(`--precision must be one of ${PRECISIONS.join(', ')}`, 2);
      if (!/^\d+$/.test(options.workspace))
        throw new CliError('--workspace must be a whole number of MiB', 2);
      const plan = planEngineBuild(
        {
          tensorrt: options.tensorrt,
          jetpack: options.jetpack,
          gpuArch: options.arch,
          precision,
          workspaceMiB: Number(options.workspace),
          calibrationCache: options.calib
            ? { path: options.calib, sha256: sha256Of(options.calib) }
            : undefined,
        },
        modelFrom(options),
        options.engineDir,
      );
      if (options.json) {
        const { argv, commandLine, cacheKey, enginePath, notes } = plan;
        const json = {
          tensorrt: plan.release.version,
          arch: plan.architecture.arch,
          argv,
          commandLine,
          cacheKey,
          enginePath,
          notes,
        };
        process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
        return;
      }
      process.stdout.write(
        [
          plan.commandLine,
          `cache key: ${plan.cacheKey}`,
          `engine:    ${plan.enginePath}`,
          ...plan.notes.map((note) => `note: ${note}`),
          '',
        ].join('\n'),
      );
    });
}
