import type { EmotionEvent } from '../api/types';
import { addToEventFeed, emptyEventFeed, labelsToShow } from './event-feed';

const event = (id: number, label: string): EmotionEvent => ({
  id: String(id),
  deviceId: 'cam-1',
  seq: id,
  label,
  score: 0.9,
  box: { x: 0, y: 0, width: 1, height: 1 },
  startedAt: '2026-01-01T00:00:00.000Z',
  durationMs: 1000,
  frameIndex: id,
  modelId: 'tiny',
  trackId: null,
  receivedAt: '2026-01-01T00:00:01.000Z',
});

describe('event feed', () => {
  it('keeps the newest events first, at most its capacity, and counts every event per label', () => {
    let feed = addToEventFeed(emptyEventFeed, [event(1, 'happy'), event(2, 'sad')], 3);
    feed = addToEventFeed(feed, [event(3, 'happy'), event(4, 'Anger')], 3);
    expect(feed.events.map((item) => item.id)).toEqual(['4', '3', '2']);
    expect(feed.countsByLabel).toEqual({ happy: 2, sad: 1, Anger: 1 });
    expect(feed.received).toBe(4);
    expect(addToEventFeed(feed, [], 3)).toBe(feed);
  });

  it('shows the four expressions first, then any other label the model has', () => {
    expect(labelsToShow(['neutral', 'Anger', 'contempt'])).toEqual([
      'Happiness',
      'Sadness',
      'Surprise',
      'Anger',
      'contempt',
      'neutral',
    ]);
  });
});
