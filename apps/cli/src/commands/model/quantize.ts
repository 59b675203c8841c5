import { readdir, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import {
  type CalibrationCacheError,
  exportQdqOnnx,
  parseCfg,
  readWeights,
  tensorRtCalibrationCache,
  tensorRtVersionNumber,
  writeFileAtomic,
} from '@emofleet/darknet';
import {
  calibrateInt8,
  type CalibrationFrame,
  int8ConvolutionsOf,
  type CalibrationMethod,
  labelWithFp32,
  type LabelledFrame,
  layerSensitivity,
  outputAgreement,
} from '@emofleet/detector';
import { CliError } from '../../cli-error';
import { FfmpegFrameDecoder } from '../detect/ffmpeg-frame-decoder';

const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.bmp']);
const METHODS: readonly CalibrationMethod[] = ['auto', 'entropy', 'percentile', 'minmax'];

interface QuantizeCommandOptions {
  readonly calib: string;
  readonly out: string;
  readonly method: CalibrationMethod;
  readonly percentile: number;
  readonly keepFp32?: number[];
  readonly eval?: string;
  readonly sensitivity: boolean;
  readonly maxImages: number;
  readonly threads: number;
  readonly json: boolean;
  readonly qdqOnnx?: string;
  readonly tensorrtCache?: string;
  readonly tensorrtVersion: string;
}

function layerList(value: string): number[] {
  const layers = value.split(',').map((item) => Number(item.trim()));
  if (layers.some((layer) => !Number.isInteger(layer) || layer < 0)) {
    throw new InvalidArgumentError(`'${value}' is not a comma-separated list of layer indices`);
  }
  return layers;
}

function method(value: string): CalibrationMethod {
  if (!(METHODS as readonly string[]).includes(value))
    throw new InvalidArgumentError(`one of ${METHODS.join(', ')}`);
  return value as CalibrationMethod;
}

function share(value: string): number {
  const parsed = Number(value);
  if (!(parsed > 0.5 && parsed <= 1)) throw new InvalidArgumentError(`'${value}' is not a share in (0.5, 1]`);
  return parsed;
}

function tensorRtVersion(value: string): string {
  try {
    tensorRtVersionNumber(value);
  } catch (error) {
    throw new InvalidArgumentError((error as CalibrationCacheError).message);
  }
  return value;
}

function count(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0) throw new InvalidArgumentError(`'${value}' is not a count`);
  return parsed;
}

/** The images of a directory (sorted by name), decoded to RGB by ffmpeg; `.txt` darknet labels when `labelled`. */
async function readImages(
  directory: string,
  limit: number,
): Promise<Array<CalibrationFrame & { name: string; label: string | undefined }>> {
  let names: string[];
  try {
    names = (await readdir(directory))
      .filter((name) => IMAGE_EXTENSIONS.has(extname(name).toLowerCase()))
      .sort();
  } catch (error) {
    throw new CliError(`${directory}: ${(error as Error).message}`, 2);
  }
  if (names.length === 0) throw new CliError(`${directory}: no .jpg/.jpeg/.png/.bmp images`, 2);
  const decoder = new FfmpegFrameDecoder();
  const frames: Array<CalibrationFrame & { name: string; label: string | undefined }> = [];
  for (const name of limit > 0 ? names.slice(0, limit) : names) {
    for await (const frame of decoder.frames(join(directory, name))) {
      const stem = name.slice(0, name.length - extname(name).length);
      const label = await readFile(join(directory, `${stem}.txt`), 'utf8').catch(() => undefined);
      frames.push({
        name,
        label,
        data: Uint8Array.from(frame.rgb),
        description: { width: frame.width, height: frame.height, format: 'rgb24' },
      });
      break;
    }
  }
  return frames;
}

/** The class of the largest box of a darknet label file, -1 without one. */
function largestBoxClass(label: string): number {
  let best = { classId: -1, area: -1 };
  for (const line of label.split(/\r?\n/)) {
    const [classId, , , width, height] = line.trim().split(/\s+/).map(Number);
    if (classId === undefined || width === undefined || height === undefined || Number.isNaN(classId))
      continue;
    if (width * height > best.area) best = { classId, area: width * height };
  }
  return best.classId;
}

export function registerQuantizeCommand(program: Command): void {
  program
    .command('quantize')
    .description(
      'Calibrate an INT8 plan for the cpu detector on representative images: per-layer activation ranges ' +
        '(minmax, percentile, entropy; auto = least quantisation error per layer), a per-layer sensitivity report ' +
        'and the accuracy of the INT8 model against FP32',
    )
    .argument('<cfg>', 'darknet .cfg file')
    .argument('<weights>', 'darknet .weights file')
    .requiredOption('--calib <dir>', 'calibration images (representative camera frames)')
    .requiredOption('--out <plan>', 'where to write the plan (JSON)')
    .option('--method <method>', `range method: ${METHODS.join(', ')}`, method, 'auto')
    .option('--percentile <share>', 'share of values the percentile method keeps', share, 0.9999)
    .option(
      '--keep-fp32 <layers>',
      'layers kept in FP32 (default: the last convolution before [region])',
      layerList,
    )
    .option(
      '--eval <dir>',
      'labelled eval images (darknet .txt beside each); default: agreement with FP32 on --calib',
    )
    .option(
      '--no-sensitivity',
      'skip the per-layer sensitivity report (one pass over the eval images per layer)',
    )
    .option('--max-images <n>', 'use at most n images of each directory (0: all)', count, 0)
    .option('--threads <n>', 'inference threads (0: all cores)', count, 0)
    .option('--json', 'print the report as JSON')
    .option(
      '--qdq-onnx <file>',
      "also write the network as QDQ ONNX with the plan's scales (onnxruntime's INT8 path)",
    )
    .option(
      '--tensorrt-cache <file>',
      'also write a TensorRT INT8 calibration cache (EntropyCalibration2 text) for the ONNX export',
    )
    .option(
      '--tensorrt-version <x.y.z>',
      'TensorRT release the cache is for (its header)',
      tensorRtVersion,
      '8.2.1',
    )
    .action(async (cfgPath: string, weightsPath: string, options: QuantizeCommandOptions) => {
      const [cfg, weights] = await Promise.all([readFile(cfgPath, 'utf8'), readFile(weightsPath)]);
      const log = (line: string) => process.stderr.write(`${line}\n`);
      const model = { cfg, weights, threads: options.threads };
      const calibration = await readImages(options.calib, options.maxImages);
      const { plan, layers, tensors } = await calibrateInt8({
        ...model,
        frames: calibration,
        method: options.method,
        percentile: options.percentile,
        ...(options.keepFp32 ? { keepFp32: options.keepFp32 } : {}),
        log: (line) => (line.endsWith(`${calibration.length}/${calibration.length}`) ? log(line) : undefined),
      });
      writeFileAtomic(options.out, `${JSON.stringify(plan, null, 2)}\n`);
      if (options.qdqOnnx || options.tensorrtCache) {
        const network = parseCfg(cfg, cfgPath);
        if (options.qdqOnnx) {
          const qdq = exportQdqOnnx(
            network,
            readWeights(network, weights, weightsPath),
            int8ConvolutionsOf(plan),
          );
          writeFileAtomic(options.qdqOnnx, qdq);
        }
        if (options.tensorrtCache) {
          writeFileAtomic(
            options.tensorrtCache,
            tensorRtCalibrationCache(network, tensors, options.tensorrtVersion),
          );
        }
      }
      let evaluation: LabelledFrame[];
      if (options.eval) {
        const labelled = await readImages(options.eval, options.maxImages);
        evaluation = labelled.map((frame) => ({
          ...frame,
          expectedClass: largestBoxClass(frame.label ?? ''),
        }));
      } else {
        evaluation = await labelWithFp32(model, calibration);
      }
      const fp32 = await outputAgreement({ ...model, plan: undefined }, evaluation);
      const int8 = await outputAgreement({ ...model, plan }, evaluation);
      const sensitivity = options.sensitivity
        ? await layerSensitivity({ ...model, log }, plan, evaluation)
        : [];
      const report = {
        plan: options.out,
        calibrationImages: calibration.length,
        evaluation: options.eval
          ? `labelled images in ${options.eval}`
          : 'top detection agreement with FP32 on --calib',
        evaluatedImages: evaluation.length,
        accuracy: { fp32, int8, drop: (fp32 - int8) * 100 },
        layers: plan.layers.map((layer) => {
          const measured = layers.find((candidate) => candidate.index === layer.index);
          const probe = sensitivity.find((candidate) => candidate.index === layer.index);
          return {
            index: layer.index,
            precision: layer.precision,
            ...(layer.input
              ? { method: layer.input.method, range: [layer.input.min, layer.input.max] as const }
              : {}),
            ...(measured
              ? {
                  meanSquaredError: Object.fromEntries(
                    Object.entries(measured.candidates).map(([k, v]) => [k, v.meanSquaredError]),
                  ),
                }
              : {}),
            ...(probe ? { sensitivityDrop: probe.drop } : {}),
          };
        }),
      };
      if (options.json) {
        process.stdout.write(`${JSON.stringify(report)}\n`);
        return;
      }
      const percent = (value: number) => `${(value * 100).toFixed(1)} %`;
      process.stdout.write(
        `wrote ${options.out}: ${calibration.length} calibration images\n` +
          `accuracy (${report.evaluation}, ${evaluation.length} images): FP32 ${percent(fp32)}, INT8 ${percent(int8)}, ` +
          `drop ${report.accuracy.drop.toFixed(2)} points\n` +
          'layer  precision  method      range                 sensitivity drop (points)\n',
      );
      for (const layer of report.layers) {
        const range = layer.range
          ? `[${layer.range[0].toPrecision(3)}, ${layer.range[1].toPrecision(4)}]`
          : '-';
        process.stdout.write(
          `${String(layer.index).padStart(5)}  ${layer.precision.padEnd(9)}  ${(layer.method ?? '-').padEnd(10)}  ` +
            `${range.padEnd(20)}  ${layer.sensitivityDrop === undefined ? '-' : layer.sensitivityDrop.toFixed(2)}\n`,
        );
      }
    });
}
