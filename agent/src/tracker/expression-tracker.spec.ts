import { ExpressionTracker, type TrackerDetection } from './expression-tracker';
import { intersectionOverUnion, normalizedBox } from './box-geometry';

const FRAME_MS = 1000 / 30;
const T0 = 1_700_000_000_000;

/** A face box that wanders by a few pixels, as real detections do. */
function face(label: string, score: number, frame: number, x = 0.3): TrackerDetection {
  const jitter = ((frame * 7) % 5) / 500;
  return { label, score, box: { x: x + jitter, y: 0.2 - jitter, width: 0.2, height: 0.25 } };
}

function run(
  tracker: ExpressionTracker,
  frames: number,
  detectionsAt: (frame: number) => TrackerDetection[],
) {
  const events = [];
  for (let index = 0; index < frames; index += 1) {
    events.push(
      ...tracker.update({
        index,
        timestamp: Math.round(T0 + index * FRAME_MS),
        modelId: 'model-a',
        detections: detectionsAt(index),
      }),
    );
  }
  return events;
}

describe('ExpressionTracker', () => {
  it('reports a face that stays happy for 10 s at 30 FPS as one event of ~10 s, not 300', () => {
    const tracker = new ExpressionTracker();
    const events = [
      ...run(tracker, 300, (i) => [face('happy', 0.6 + (i % 10) / 100, i)]),
      ...tracker.flush(),
    ];
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      label: 'happy',
      frameIndex: 0,
      modelId: 'model-a',
      score: 0.69,
      trackId: 1,
    });
    expect(events[0]?.durationMs).toBeGreaterThanOrEqual(9900);
    expect(events[0]?.startedAt).toBe(T0);
  });

  it('ignores a label flicker shorter than the switch delay, but splits a lasting change into two events', () => {
    const tracker = new ExpressionTracker({ labelSwitchMs: 300 });
    const events = [
      ...run(tracker, 240, (i) => {
        if (i >= 50 && i < 53) return [face('sad', 0.8, i)]; // 100 ms flicker
        return [face(i < 120 ? 'happy' : 'surprise', 0.8, i)];
      }),
      ...tracker.flush(),
    ];
    expect(events.map((e) => [e.label, e.frameIndex, e.trackId])).toEqual([
      ['happy', 0, 1],
      ['surprise', 120, 1],
    ]);
    expect(events[0]?.durationMs).toBeCloseTo(119 * FRAME_MS, -1);
  });

  it('follows two faces as two tracks and ends a track when its face is gone longer than the gap', () => {
    const tracker = new ExpressionTracker({ maxGapMs: 500 });
    const events = run(tracker, 150, (i) => [
      face('happy', 0.9, i, 0.05),
      ...(i < 60 ? [face('angry', 0.9, i, 0.6)] : []),
    ]);
    expect(events.map((e) => [e.label, e.trackId])).toEqual([['angry', 2]]);
    expect(tracker.activeTracks).toBe(1);
    expect(tracker.flush().map((e) => [e.label, e.trackId])).toEqual([['happy', 1]]);
  });

  it('drops detections under the minimum score and expressions shorter than the minimum duration', () => {
    const tracker = new ExpressionTracker({ minScore: 0.7, minDurationMs: 1000 });
    const events = [
      ...run(tracker, 200, (i) => {
        if (i < 60) return [face('happy', 0.5, i)]; // below the score floor
        if (i < 80) return [face('sad', 0.9, i, 0.6)]; // 0.63 s: too short
        return [];
      }),
      ...tracker.flush(),
    ];
    expect(events).toEqual([]);
  });

  it('splits an expression held longer than the maximum event duration', () => {
    const tracker = new ExpressionTracker({ maxEventDurationMs: 4000 });
    const events = [...run(tracker, 300, (i) => [face('neutral', 0.9, i)]), ...tracker.flush()];
    expect(events.map((e) => e.label)).toEqual(['neutral', 'neutral', 'neutral']);
    expect(events.every((e) => e.durationMs <= 4000)).toBe(true);
  });
});

describe('box geometry', () => {
  it('computes IoU and normalises pixel boxes into the frame', () => {
    expect(
      intersectionOverUnion(
        { x: 0, y: 0, width: 0.5, height: 0.5 },
        { x: 0.25, y: 0, width: 0.5, height: 0.5 },
      ),
    ).toBeCloseTo(1 / 3);
    expect(
      intersectionOverUnion(
        { x: 0, y: 0, width: 0.1, height: 0.1 },
        { x: 0.5, y: 0.5, width: 0.1, height: 0.1 },
      ),
    ).toBe(0);
    expect(normalizedBox({ x: 600, y: -10, width: 100, height: 50 }, 640, 480)).toEqual({
      x: 600 / 640,
      y: 0,
      width: 40 / 640,
      height: 50 / 480,
    });
  });
});
