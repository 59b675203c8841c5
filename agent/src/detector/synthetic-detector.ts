import { type TrackerDetection } from '../tracker';
import { type RawFrame } from '../sources';
import { type DetectorAdapter } from './detector-adapter';

/**
 * The paper's four expression classes, spelled as the real models name them (libs/darknet/models/expressions.names),
 * so simulated devices report the same labels as real ones.
 */
export const SYNTHETIC_LABELS = ['Happiness', 'Sadness', 'Surprise', 'Anger'] as const;

export interface SyntheticDetectorOptions {
  readonly modelId: string;
  /** How long each synthetic expression lasts, in frames (default 90: 3 s at 30 FPS). */
  readonly framesPerExpression?: number;
  /** Simulated inference time in ms (default 0: answers at once). */
  readonly latencyMs?: number;
}

/**
 * A stand-in detector that costs nothing: one face slowly crossing the frame whose expression changes every
 * `framesPerExpression` frames, derived from the frame index alone (deterministic). Used by the simulator, by
 * tests and by health checks of synthetic model bundles.
 */
export class SyntheticDetector implements DetectorAdapter {
  readonly backend = 'synthetic';
  private readonly framesPerExpression: number;

  constructor(private readonly options: SyntheticDetectorOptions) {
    this.framesPerExpression = options.framesPerExpression ?? 90;
  }

  get modelId(): string {
    return this.options.modelId;
  }

  async detect(frame: RawFrame): Promise<readonly TrackerDetection[]> {
    if ((this.options.latencyMs ?? 0) > 0)
      await new Promise((resolve) => setTimeout(resolve, this.options.latencyMs));
    const expression = Math.floor(frame.index / this.framesPerExpression);
    const label = SYNTHETIC_LABELS[expression % SYNTHETIC_LABELS.length] as string;
    const x = 0.1 + ((frame.index % 600) / 600) * 0.5;
    return [{ label, score: 0.8 + (frame.index % 7) / 100, box: { x, y: 0.25, width: 0.25, height: 0.3 } }];
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
