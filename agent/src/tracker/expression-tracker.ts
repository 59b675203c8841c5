import { type BoundingBox } from '@emofleet/protocol';
import { type NewEmotionEvent } from '../spool';
import { intersectionOverUnion } from './box-geometry';

/** One detection of one frame, in frame-relative coordinates. */
export interface TrackerDetection {
  readonly label: string;
  readonly score: number;
  readonly box: BoundingBox;
}

export interface TrackedFrame {
  readonly index: number;
  /** Capture time, ms since the epoch. */
  readonly timestamp: number;
  readonly modelId: string;
  readonly detections: readonly TrackerDetection[];
}

export interface ExpressionTrackerOptions {
  /** Detections below this score are ignored (default 0.5). */
  readonly minScore?: number;
  /** Expressions held for less than this produce no event (default 500 ms). */
  readonly minDurationMs?: number;
  /** A detection continues a track when its box overlaps the track's last box by at least this IoU (default 0.3). */
  readonly minIou?: number;
  /** A track not seen for this long has ended (default 1000 ms): the face left or is hidden. */
  readonly maxGapMs?: number;
  /** A different label must persist this long to end the current expression (default 500 ms): flicker is ignored. */
  readonly labelSwitchMs?: number;
  /** An expression held longer is reported in parts of this length, so no event waits forever (default 60 s). */
  readonly maxEventDurationMs?: number;
}

/** The expression a track currently holds: what becomes one event. */
interface ExpressionSegment {
  label: string;
  startedAt: number;
  startFrameIndex: number;
  lastSeenAt: number;
  bestScore: number;
  bestBox: BoundingBox;
  modelId: string;
}

interface Track {
  readonly id: number;
  box: BoundingBox;
  lastSeenAt: number;
  segment: ExpressionSegment;
  /** A different label seen since `since`, not yet held long enough to switch. */
  candidate:
    | { label: string; since: number; frameIndex: number; score: number; box: BoundingBox }
    | undefined;
}

/**
 * Turns per-frame detections into debounced expression events: detections are linked across frames into face
 * tracks by box overlap (greedy, best IoU first), and each track reports one event per expression it held, with
 * its start, duration, best score and the box at that score. A face that stays happy for 10 s at 30 FPS is one
 * event of ~10 s, not 300.
 */
export class ExpressionTracker {
  private readonly minScore: number;
  private readonly minDurationMs: number;
  private readonly minIou: number;
  private readonly maxGapMs: number;
  private readonly labelSwitchMs: number;
  private readonly maxEventDurationMs: number;
  private tracks: Track[] = [];
  private nextTrackId = 1;

  constructor(options: ExpressionTrackerOptions = {}) {
    this.minScore = options.minScore ?? 0.5;
    this.minDurationMs = options.minDurationMs ?? 500;
    this.minIou = options.minIou ?? 0.3;
    this.maxGapMs = options.maxGapMs ?? 1000;
    this.labelSwitchMs = options.labelSwitchMs ?? 500;
    this.maxEventDurationMs = options.maxEventDurationMs ?? 60_000;
    if (!(this.minScore >= 0 && this.minScore <= 1))
      throw new RangeError(`minScore must be in [0, 1], got ${this.minScore}`);
    if (!(this.minDurationMs >= 0))
      throw new RangeError(`minDurationMs must be >= 0, got ${this.minDurationMs}`);
    if (!(this.maxEventDurationMs > this.minDurationMs)) {
      throw new RangeError('maxEventDurationMs must be larger than minDurationMs');
    }
  }

  /** Tracks currently followed. */
  get activeTracks(): number {
    return this.tracks.length;
  }

  /** Feeds one frame; returns the events that ended with it. */
  update(frame: TrackedFrame): NewEmotionEvent[] {
    const events: NewEmotionEvent[] = [];
    const detections = frame.detections.filter((d) => d.score >= this.minScore);
    const unmatched = new Set(detections.keys());
    const pairs: { track: Track; detection: number; iou: number }[] = [];
    for (const track of this.tracks) {
      detections.forEach((detection, index) => {
        const iou = intersectionOverUnion(track.box, detection.box);
        if (iou >= this.minIou) pairs.push({ track, detection: index, iou });
      });
    }
    pairs.sort((a, b) => b.iou - a.iou);
    const matchedTracks = new Set<Track>();
    for (const pair of pairs) {
      if (matchedTracks.has(pair.track) || !unmatched.has(pair.detection)) continue;
      matchedTracks.add(pair.track);
      unmatched.delete(pair.detection);
      this.continueTrack(pair.track, detections[pair.detection] as TrackerDetection, frame, events);
    }
    this.tracks = this.tracks.filter((track) => {
      if (matchedTracks.has(track) || frame.timestamp - track.lastSeenAt <= this.maxGapMs) return true;
      this.emit(track, track.segment, events);
      return false;
    });
    for (const index of unmatched) {
      const detection = detections[index] as TrackerDetection;
      this.tracks.push({
        id: this.nextTrackId++,
        box: detection.box,
        lastSeenAt: frame.timestamp,
        segment: this.newSegment(detection.label, frame.timestamp, frame.index, detection, frame.modelId),
        candidate: undefined,
      });
    }
    return events;
  }

  /** Ends every track (the source ended or the model changed); returns their events. */
  flush(): NewEmotionEvent[] {
    const events: NewEmotionEvent[] = [];
    for (const track of this.tracks) this.emit(track, track.segment, events);
    this.tracks = [];
    return events;
  }

  private continueTrack(
    track: Track,
    detection: TrackerDetection,
    frame: TrackedFrame,
    events: NewEmotionEvent[],
  ): void {
    track.box = detection.box;
    track.lastSeenAt = frame.timestamp;
    const segment = track.segment;
    if (detection.label === segment.label) {
      track.candidate = undefined;
      this.extend(segment, detection, frame.timestamp);
    } else if (track.candidate?.label !== detection.label) {
      track.candidate = {
        label: detection.label,
        since: frame.timestamp,
        frameIndex: frame.index,
        score: detection.score,
        box: detection.box,
      };
    } else if (frame.timestamp - track.candidate.since >= this.labelSwitchMs) {
      const candidate = track.candidate;
      this.emit(track, segment, events);
      track.segment = this.newSegment(
        candidate.label,
        candidate.since,
        candidate.frameIndex,
        candidate,
        frame.modelId,
      );
      this.extend(track.segment, detection, frame.timestamp);
      track.candidate = undefined;
    }
    if (track.segment.lastSeenAt - track.segment.startedAt >= this.maxEventDurationMs) {
      this.emit(track, track.segment, events);
      track.segment = this.newSegment(
        track.segment.label,
        frame.timestamp,
        frame.index,
        detection,
        frame.modelId,
      );
    }
  }

  private extend(segment: ExpressionSegment, detection: TrackerDetection, timestamp: number): void {
    segment.lastSeenAt = timestamp;
    if (detection.score > segment.bestScore) {
      segment.bestScore = detection.score;
      segment.bestBox = detection.box;
    }
  }

  private newSegment(
    label: string,
    startedAt: number,
    frameIndex: number,
    detection: { score: number; box: BoundingBox },
    modelId: string,
  ): ExpressionSegment {
    return {
      label,
      startedAt,
      startFrameIndex: frameIndex,
      lastSeenAt: startedAt,
      bestScore: detection.score,
      bestBox: detection.box,
      modelId,
    };
  }

  private emit(track: Track, segment: ExpressionSegment, events: NewEmotionEvent[]): void {
    const durationMs = segment.lastSeenAt - segment.startedAt;
    if (durationMs < this.minDurationMs) return;
    events.push({
      label: segment.label,
      score: segment.bestScore,
      box: segment.bestBox,
      startedAt: segment.startedAt,
      durationMs,
      frameIndex: segment.startFrameIndex,
      modelId: segment.modelId,
      trackId: track.id,
    });
  }
}
