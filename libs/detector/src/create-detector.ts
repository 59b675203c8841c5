import { readFile } from 'node:fs/promises';
import { Detector } from './detector';
import { DetectorError, toDetectorError } from './detector-error';
import { loadNativeModule } from './native-binding';
import { checkPlanMatches, int8LayersOf } from './quantization/int8-plan';
import type { ClassifierOptions, CreateDetectorOptions } from './types';

async function readInput(
  path: string,
  code: 'EMOFLEET_BAD_CFG' | 'EMOFLEET_BAD_WEIGHTS',
  what: string,
): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new DetectorError(
      code,
      `${what} ${path}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

async function cfgText(cfg: string): Promise<string> {
  if (cfg.includes('\n')) return cfg;
  return (await readInput(cfg, 'EMOFLEET_BAD_CFG', 'cannot read cfg')).toString('utf8');
}

async function labels(names: CreateDetectorOptions['names']): Promise<readonly string[]> {
  if (names === undefined) return [];
  if (typeof names !== 'string') return names;
  const text = (await readInput(names, 'EMOFLEET_BAD_CFG', 'cannot read names file')).toString('utf8');
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
}

function checkThreads(threads: number | undefined): number {
  if (threads === undefined) return 0;
  if (!Number.isInteger(threads) || threads < 0 || threads > 256) {
    throw new DetectorError(
      'EMOFLEET_BAD_ARGUMENT',
      `threads must be 0 (all cores) or an integer 1..256, got ${threads}`,
    );
  }
  return threads;
}

async function weightsBytes(weights: Buffer | string, what: string): Promise<Buffer> {
  return typeof weights === 'string'
    ? readInput(weights, 'EMOFLEET_BAD_WEIGHTS', `cannot read ${what}`)
    : Promise.resolve(weights);
}

async function classifierStage(classifier: ClassifierOptions | undefined) {
  if (classifier === undefined) return undefined;
  const [cfg, weights, names] = await Promise.all([
    cfgText(classifier.cfg),
    weightsBytes(classifier.weights, 'classifier weights'),
    labels(classifier.names),
  ]);
  const threads = classifier.threads === undefined ? undefined : checkThreads(classifier.threads);
  return { cfg, weights, names, input: classifier.input, ...(threads === undefined ? {} : { threads }) };
}

/**
 * Loads a darknet network (cfg + weights, or cfg + TensorRT engine) into a native detector, optionally with a
 * classifier run on each detected box.
 */
export async function createDetector(options: CreateDetectorOptions): Promise<Detector> {
  const native = loadNativeModule();
  const backend = options.backend ?? 'cpu';
  const threads = checkThreads(options.threads);
  const [cfg, weights, names, classifier] = await Promise.all([
    cfgText(options.cfg),
    weightsBytes(options.weights, 'weights'),
    labels(options.names),
    classifierStage(options.classifier),
  ]);
  if (options.int8Plan) checkPlanMatches(options.int8Plan, cfg, weights);
  const detector = await native
    .createDetector(cfg, weights, {
      backend,
      threads,
      fuse: options.fuse ?? true,
      winograd: options.winograd ?? 'auto',
      pipelined: options.pipelined ?? true,
      ...(options.input ? { input: options.input } : {}),
      ...(classifier
        ? {
            classifier: {
              cfg: classifier.cfg,
              weights: classifier.weights,
              input: classifier.input,
              ...(classifier.threads === undefined ? {} : { threads: classifier.threads }),
            },
          }
        : {}),
      ...(options.int8Plan ? { int8Layers: int8LayersOf(options.int8Plan) } : {}),
    })
    .catch((error: unknown) => {
      throw toDetectorError(error);
    });
  const info = detector.info();
  if (
    classifier &&
    info.classifier &&
    classifier.names.length > 0 &&
    classifier.names.length !== info.classifier.classes
  ) {
    detector.dispose();
    throw new DetectorError(
      'EMOFLEET_BAD_ARGUMENT',
      `classifier names: ${classifier.names.length} labels for a classifier with ${info.classifier.classes} outputs`,
    );
  }
  return new Detector(detector, names, info, classifier?.names ?? []);
}

/** Backends compiled into the installed addon (always 'cpu'; 'tensorrt' only where TensorRT was found). */
export function availableBackends(): string[] {
  return loadNativeModule().backends.split(',');
}
