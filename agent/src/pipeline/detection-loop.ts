import { type DetectorAdapter } from '../detector';
import { type Logger } from '../logger';
import { LatestFrameSlot, type FrameSource, type RawFrame } from '../sources';
import { type EventSpool } from '../spool';
import { type FrameStatistics } from '../telemetry';
import { type ExpressionTracker } from '../tracker';

export interface DetectionLoopOptions {
  readonly source: FrameSource;
  /** The detector of the running model, or undefined while none runs (frames are then dropped). */
  readonly detector: () => DetectorAdapter | undefined;
  readonly tracker: ExpressionTracker;
  readonly spool: EventSpool;
  readonly frames: FrameStatistics;
  readonly logger: Logger;
}

/**
 * Frames → detector → tracker → spool. At most one frame waits (`LatestFrameSlot`): while the detector works on
 * a frame, newer ones replace the waiting one and the replaced ones are counted as dropped.
 */
export class DetectionLoop {
  private readonly slot = new LatestFrameSlot();
  private busy = false;
  private draining: Promise<void> = Promise.resolve();
  private lastModelId: string | undefined;
  private countedDrops = 0;
  private running = false;
  private ended: Promise<Error | undefined> = Promise.resolve(undefined);

  constructor(private readonly options: DetectionLoopOptions) {}

  /** Resolves when the source ended (with its error, if any). */
  get whenSourceEnded(): Promise<Error | undefined> {
    return this.ended;
  }

  start(): void {
    this.running = true;
    this.ended = new Promise((resolve) => {
      this.options.source.start(
        (frame) => this.onFrame(frame),
        (error) => {
          if (error !== undefined)
            this.options.logger.error('frame source failed', {
              source: this.options.source.description,
              error,
            });
          resolve(error);
        },
      );
    });
  }

  /**
   * Stops the source, lets the frame being detected finish, and counts a frame still waiting as dropped, so
   * that processed + dropped always equals the frames the source delivered.
   */
  async stop(): Promise<void> {
    this.running = false;
    await this.options.source.stop();
    await this.draining;
    if (this.slot.take() !== undefined) this.options.frames.recordDropped();
    this.syncDrops();
    for (const event of this.options.tracker.flush()) this.options.spool.append(event);
  }

  private onFrame(frame: RawFrame): void {
    if (!this.running) return;
    this.slot.put(frame);
    this.syncDrops();
    if (!this.busy) {
      this.draining = this.drain().catch((error: unknown) =>
        this.options.logger.error('detection loop failed', { error }),
      );
    }
  }

  private async drain(): Promise<void> {
    this.busy = true;
    try {
      for (let frame = this.slot.take(); frame !== undefined && this.running; frame = this.slot.take()) {
        await this.process(frame);
      }
    } finally {
      this.busy = false;
    }
  }

  private async process(frame: RawFrame): Promise<void> {
    const detector = this.options.detector();
    if (detector === undefined) {
      this.options.frames.recordDropped();
      return;
    }
    if (this.lastModelId !== undefined && this.lastModelId !== detector.modelId) {
      // A new model: expressions seen by the old one end here.
      for (const event of this.options.tracker.flush()) this.options.spool.append(event);
    }
    this.lastModelId = detector.modelId;
    const started = process.hrtime.bigint();
    let detections;
    try {
      detections = await detector.detect(frame);
    } catch (error) {
      this.options.logger.warn('detection failed; frame skipped', { error, frameIndex: frame.index });
      this.options.frames.recordDropped();
      return;
    }
    this.options.frames.recordInference(Number(process.hrtime.bigint() - started) / 1e6);
    const events = this.options.tracker.update({
      index: frame.index,
      timestamp: frame.timestamp,
      modelId: detector.modelId,
      detections,
    });
    for (const event of events) this.options.spool.append(event);
  }

  private syncDrops(): void {
    const dropped = this.slot.dropped - this.countedDrops;
    if (dropped > 0) this.options.frames.recordDropped(dropped);
    this.countedDrops = this.slot.dropped;
  }
}
