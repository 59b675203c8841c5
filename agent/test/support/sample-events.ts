import { type NewEmotionEvent } from '../../src/spool';

/** A valid event as the tracker would produce it (no seq yet); `n` varies the content. */
export function sampleEvent(n: number): NewEmotionEvent {
  return {
    label: n % 2 === 0 ? 'happy' : 'surprise',
    score: 0.9,
    box: { x: 0.1, y: 0.2, width: 0.3, height: 0.4 },
    startedAt: 1_700_000_000_000 + n,
    durationMs: 1000,
    frameIndex: n,
    modelId: 'yolo-v2-expressions@1',
    trackId: n,
  };
}
