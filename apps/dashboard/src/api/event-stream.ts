import { createParser } from 'eventsource-parser';
import { authorisationHeader } from './client';
import type { EmotionEvent } from './types';

export interface EventStreamFilter {
  device?: string;
  tags?: string;
  label?: string;
  minScore?: number;
  model?: string;
}

export type EventStreamState =
  | { status: 'connecting' }
  | { status: 'live' }
  | { status: 'retrying'; reason: string; inSeconds: number }
  | { status: 'refused'; reason: string };

export interface EventStreamOptions {
  filter: EventStreamFilter;
  /** Receives the events that arrived since the last call, oldest first, at most every `flushMs`. */
  onEvents(events: EmotionEvent[]): void;
  onState(state: EventStreamState): void;
  /** How often arrived events are handed over (default 250 ms): one render per batch, not per event. */
  flushMs?: number;
}

/**
 * Follows `GET /events/stream` (Server-Sent Events). The browser's EventSource cannot send the API token, so the
 * stream is read with fetch and parsed with eventsource-parser. A dropped connection is resumed after the last
 * event id received (the API then sends what was missed). Returns the function that closes the stream.
 */
export function openEventStream(options: EventStreamOptions): () => void {
  const controller = new AbortController();
  const flushMs = options.flushMs ?? 250;
  let pending: EmotionEvent[] = [];
  let lastEventId: string | undefined;
  let failures = 0;
  const flushTimer = setInterval(() => {
    if (pending.length === 0) return;
    const batch = pending;
    pending = [];
    options.onEvents(batch);
  }, flushMs);

  const parser = createParser({
    onEvent(message) {
      if (message.event !== 'emotion-event') return;
      const event = parseEvent(message.data);
      if (event === undefined) return;
      lastEventId = message.id ?? event.id;
      pending.push(event);
    },
  });

  const connect = async (): Promise<void> => {
    while (!controller.signal.aborted) {
      options.onState({ status: 'connecting' });
      let reason: string;
      try {
        const response = await fetch(`/events/stream?${streamQuery(options.filter)}`, {
          headers: {
            accept: 'text/event-stream',
            ...authorisationHeader(),
            ...(lastEventId === undefined ? {} : { 'last-event-id': lastEventId }),
          },
          signal: controller.signal,
        });
        if (response.status === 401 || response.status === 403 || response.status === 400) {
          options.onState({ status: 'refused', reason: await errorMessage(response) });
          return;
        }
        if (!response.ok || response.body === null) throw new Error(`HTTP ${response.status}`);
        options.onState({ status: 'live' });
        failures = 0;
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          parser.feed(value);
        }
        reason = 'the stream ended';
      } catch (error) {
        if (controller.signal.aborted) return;
        reason = error instanceof Error ? error.message : String(error);
      }
      parser.reset();
      failures += 1;
      const inSeconds = Math.min(15, 2 ** Math.min(failures - 1, 4));
      options.onState({ status: 'retrying', reason, inSeconds });
      await new Promise((resolve) => setTimeout(resolve, inSeconds * 1000));
    }
  };
  void connect();

  return () => {
    controller.abort();
    clearInterval(flushTimer);
  };
}

function streamQuery(filter: EventStreamFilter): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(filter)) {
    if (value !== undefined && value !== '') query.set(key, String(value));
  }
  return query.toString();
}

function parseEvent(data: string): EmotionEvent | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const candidate = parsed as Partial<EmotionEvent>;
  return typeof candidate.id === 'string' &&
    typeof candidate.label === 'string' &&
    typeof candidate.deviceId === 'string' &&
    typeof candidate.startedAt === 'string'
    ? (candidate as EmotionEvent)
    : undefined;
}

async function errorMessage(response: Response): Promise<string> {
  try {
    const body = (await response.json()) as { error?: { message?: string } };
    return body.error?.message ?? `HTTP ${response.status}`;
  } catch {
    return `HTTP ${response.status}`;
  }
}
