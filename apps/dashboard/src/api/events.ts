import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { rangeQuery, type TimeRange } from '../lib/time-ranges';
import { api, unwrap } from './client';
import type { EmotionEvent } from './types';
import type { EventStreamFilter } from './event-stream';

const AGGREGATE_REFRESH_MS = 10_000;

/** Event counts per bucket and label over `range`, with the feed's filters. */
export function useEventCountsByLabel(range: TimeRange, filter: EventStreamFilter = {}) {
  return useQuery({
    queryKey: ['event-counts', range.id, filter],
    queryFn: async ({ signal }) =>
      unwrap(
        await api.GET('/events/aggregates', {
          params: { query: { ...rangeQuery(range, Date.now()), by: 'label', ...filter } },
          signal,
        }),
      ),
    refetchInterval: AGGREGATE_REFRESH_MS,
    placeholderData: keepPreviousData,
  });
}

/** The events of the last `minutes` (up to 1,000, the newest), e.g. a device's recent expressions. */
export function useRecentEvents(filter: EventStreamFilter, minutes: number) {
  return useQuery({
    queryKey: ['recent-events', filter, minutes],
    queryFn: async ({ signal }): Promise<EmotionEvent[]> => {
      const from = new Date(Date.now() - minutes * 60_000).toISOString();
      const collected: EmotionEvent[] = [];
      let cursor: string | undefined;
      // Pages come oldest first; keep only the newest 1,000 however many pages there are.
      do {
        const page = unwrap(
          await api.GET('/events', { params: { query: { ...filter, from, limit: 1000, cursor } }, signal }),
        );
        collected.push(...page.items);
        if (collected.length > 1000) collected.splice(0, collected.length - 1000);
        cursor = page.nextCursor ?? undefined;
      } while (cursor !== undefined);
      return collected.reverse();
    },
    refetchInterval: 15_000,
  });
}
