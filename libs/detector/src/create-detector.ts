import { readFile } from 'node:fs/promises';
import { Detector } from './detector';
import { DetectorError, toDetectorError } from './detector-error';
import { loadNativeModule } from './native-binding';
import type { CreateDetectorOptions } from './types';

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

/** Loads a darknet network (cfg + weights, or cfg + TensorRT engine) into a native detector. */
export async function createDetector(options: CreateDetectorOptions): Promise<Detector> {
  const native = loadNativeModule();
  const backend = options.backend ?? 'cpu';
  const threads = checkThreads(options.threads);
  const [cfg, weights, names] = await Promise.all([
    cfgText(options.cfg),
    typeof options.weights === 'string'
      ? readInput(options.weights, 'EMOFLEET_BAD_WEIGHTS', 'cannot read weights')
      : Promise.resolve(options.weights),
    labels(options.names),
  ]);
  const detector = await native
    .createDetector(cfg, weights, {
      backend,
      threads,
      fuse: options.fuse ?? true,
      pipelined: options.pipelined ?? true,
    })
    .catch((error: unknown) => {
      throw toDetectorError(error);
    });
  return new Detector(detector, names, detector.info());
}

/** Backends compiled into the installed addon (always 'cpu'; 'tensorrt' only where TensorRT was found). */
export function availableBackends(): string[] {
  return loadNativeModule().backends.split(',');
}
