import { type TrackerDetection } from '../tracker';
import { type RawFrame } from '../sources';

/**
 * What the agent needs from a detector: detections of one frame in frame-relative coordinates. The native
 * detector (`@emofleet/detector`) and the synthetic one used by tests and the simulator both implement it.
 */
export interface DetectorAdapter {
  /** The model these detections come from (events carry it). */
  readonly modelId: string;
  /** Backend name for births and logs: `cpu`, `tensorrt`, `synthetic`. */
  readonly backend: string;
  detect(frame: RawFrame): Promise<readonly TrackerDetection[]>;
  close(): Promise<void>;
}
