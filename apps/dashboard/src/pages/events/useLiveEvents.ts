import { useEffect, useState } from 'react';
import { type EventStreamFilter, type EventStreamState, openEventStream } from '../../api/event-stream';
import { addToEventFeed, emptyEventFeed, type EventFeedState } from '../../lib/event-feed';

/**
 * The live event feed for `filter`: events arriving on the SSE stream, batched (one state change per 250 ms at
 * most, however many events arrive), newest first, at most `capacity` kept. A new filter starts a new feed.
 */
export function useLiveEvents(filter: EventStreamFilter, capacity: number, paused = false) {
  const [feed, setFeed] = useState<EventFeedState>(emptyEventFeed);
  const [state, setState] = useState<EventStreamState>({ status: 'connecting' });
  const filterKey = JSON.stringify(filter);

  useEffect(() => {
    if (paused) return undefined;
    setFeed(emptyEventFeed);
    const close = openEventStream({
      filter: JSON.parse(filterKey) as EventStreamFilter,
      onEvents: (batch) => setFeed((current) => addToEventFeed(current, batch, capacity)),
      onState: setState,
    });
    return close;
  }, [filterKey, capacity, paused]);

  return { feed, state };
}
