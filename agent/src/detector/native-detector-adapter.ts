import { type NetworkInputSpec, type PadToSquareInputSpec } from '@emofleet/protocol';
import { readBundleContents } from '../reconcile/bundle-contents';
import { type RawFrame } from '../sources';
import { normalizedBox, type TrackerDetection } from '../tracker';
import { type DetectorAdapter } from './detector-adapter';

/** The part of `@emofleet/detector` the agent uses (loaded lazily: machines without the addon still run). */
interface DetectorModule {
  createDetector(options: {
    cfg: string;
    weights: string;
    names: readonly string[];
    threads?: number;
    input?: NetworkInputSpec;
    classifier?: { cfg: string; weights: string; names: readonly string[]; input: PadToSquareInputSpec };
  }): Promise<{
    detect(
      frame: Uint8Array,
      description: { width: number; height: number; format: 'rgb24' },
      options?: { scoreThreshold?: number; iouThreshold?: number },
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

/**
 * Loads a darknet bundle (model.cfg, model.weights, model.names in `directory`, and when `bundle.json` says so the
 * input preparation, a classifier stage and a label mapping) into the native detector. Detections carry the
 * bundle's reported labels: the classifier's for two-stage bundles, mapped by the bundle's label mapping.
 * `scoreThreshold` overrides the bundle's own.
 */
export async function loadNativeDetector(
  directory: string,
  modelId: string,
  options: { threads?: number; scoreThreshold?: number } = {},
): Promise<DetectorAdapter> {
  const bundle = await readBundleContents(directory);
  const { classifier } = bundle;
  const detector = await loadDetectorModule().createDetector({
    cfg: bundle.detector.cfg,
    weights: bundle.detector.weights,
    names: classifier ? bundle.detector.labels : bundle.reportedLabels,
    threads: options.threads,
    input: bundle.description.detector.input,
    ...(classifier
      ? {
          classifier: {
            cfg: classifier.cfg,
            weights: classifier.weights,
            names: bundle.reportedLabels,
            input: classifier.input,
          },
        }
      : {}),
  });
  const thresholds = {
    scoreThreshold: options.scoreThreshold ?? bundle.description.detector.scoreThreshold,
    iouThreshold: bundle.description.detector.iouThreshold,
  };
  return {
    modelId,
    backend: detector.info.backend,
    async detect(frame: RawFrame): Promise<readonly TrackerDetection[]> {
      const found = await detector.detect(
        frame.data,
        { width: frame.width, height: frame.height, format: 'rgb24' },
        thresholds,
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
