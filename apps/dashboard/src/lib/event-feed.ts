import type { EmotionEvent } from '../api/types';

/** The four expressions of the shipped models; other labels a model has are shown after them. */
export const KNOWN_LABELS = ['Happiness', 'Sadness', 'Surprise', 'Anger'] as const;

export interface EventFeedState {
  /** Newest first, at most `capacity`. */
  events: EmotionEvent[];
  /** Events received per label since the feed started. */
  countsByLabel: Record<string, number>;
  received: number;
}

export const emptyEventFeed: EventFeedState = { events: [], countsByLabel: {}, received: 0 };

/**
 * Adds a batch (oldest first, as the stream delivers) to the feed: a new state, newest first, trimmed to
 * `capacity` so that memory and the list stay bounded however long the page stays open.
 */
export function addToEventFeed(
  state: EventFeedState,
  batch: readonly EmotionEvent[],
  capacity: number,
): EventFeedState {
  if (batch.length === 0) return state;
  const countsByLabel = { ...state.countsByLabel };
  for (const event of batch) countsByLabel[event.label] = (countsByLabel[event.label] ?? 0) + 1;
  const newestFirst = [...batch].reverse();
  return {
    events: [...newestFirst, ...state.events].slice(0, capacity),
    countsByLabel,
    received: state.received + batch.length,
  };
}

/** The labels to show: the known four, then any other label seen, alphabetically. */
export function labelsToShow(seen: Iterable<string>): string[] {
  const others = [...new Set(seen)]
    .filter((label) => !(KNOWN_LABELS as readonly string[]).includes(label))
    .sort((a, b) => a.localeCompare(b));
  return [...KNOWN_LABELS, ...others];
}
