import * as path from 'node:path';
import { type RawFrame } from '../sources';
import { normalizedBox, type TrackerDetection } from '../tracker';
import { type DetectorAdapter } from './detector-adapter';

/** The part of `@emofleet/detector` the agent uses (loaded lazily: machines without the addon still run). */
interface DetectorModule {
  createDetector(options: { cfg: string; weights: string; names: string; threads?: number }): Promise<{
    detect(
      frame: Uint8Array,
      description: { width: number; height: number; format: 'rgb24' },
      options?: { scoreThreshold?: number },
    ): Promise<
      { label: string; score: number; box: { x: number; y: number; width: number; height: number } }[]
    >;
    dispose(): void;
    readonly info: { readonly backend: string };
  }>;
  availableBackends(): string[];
}

function loadDetectorModule(): DetectorModule {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('@emofleet/detector') as DetectorModule;
}

/** Backends of the native detector on this machine, or [] when the addon is not built/installed. */
export function nativeDetectorBackends(): string[] {
  try {
    return loadDetectorModule().availableBackends();
  } catch {
    return [];
  }
}

/** Loads a darknet bundle (model.cfg, model.weights, model.names in `directory`) into the native detector. */
export async function loadNativeDetector(
  directory: string,
  modelId: string,
  options: { threads?: number; scoreThreshold?: number } = {},
): Promise<DetectorAdapter> {
  const detector = await loadDetectorModule().createDetector({
    cfg: path.join(directory, 'model.cfg'),
    weights: path.join(directory, 'model.weights'),
    names: path.join(directory, 'model.names'),
    threads: options.threads,
  });
  return {
    modelId,
    backend: detector.info.backend,
    async detect(frame: RawFrame): Promise<readonly TrackerDetection[]> {
      const found = await detector.detect(
        frame.data,
        { width: frame.width, height: frame.height, format: 'rgb24' },
        { scoreThreshold: options.scoreThreshold },
      );
      return found.map((d) => ({
        label: d.label,
        score: d.score,
        box: normalizedBox(d.box, frame.width, frame.height),
      }));
    },
    close() {
      detector.dispose();
      return Promise.resolve();
    },
  };
}
