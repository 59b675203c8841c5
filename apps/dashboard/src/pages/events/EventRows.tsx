import { Link } from 'wouter';
import type { EmotionEvent } from '../../api/types';
import { formatPercent, formatTime } from '../../lib/format';

/** One event as a line: time, label, score, device, model, duration. */
export function EventLine({ event, showDevice = true }: { event: EmotionEvent; showDevice?: boolean }) {
  return (
    <>
      <span className="event-time">{formatTime(event.startedAt)}</span>
      <span className={`event-label label-${event.label}`}>{event.label}</span>
      <span className="num">{formatPercent(event.score, 0)}</span>
      {showDevice && (
        <Link href={`/devices/${encodeURIComponent(event.deviceId)}`} className="event-device">
          {event.deviceId}
        </Link>
      )}
      <span className="muted event-model">{event.modelId}</span>
      <span className="muted num">{(event.durationMs / 1000).toFixed(1)} s</span>
    </>
  );
}

/** A short list of events (a device's recent ones); the Events page uses a virtualised list instead. */
export function EventList({
  events,
  showDevice = true,
  testId,
}: {
  events: readonly EmotionEvent[];
  showDevice?: boolean;
  testId?: string;
}) {
  if (events.length === 0) return <p className="muted">No events.</p>;
  return (
    <ol className={showDevice ? 'event-list' : 'event-list no-device'} data-testid={testId}>
      {events.map((event) => (
        <li key={event.id} className="event-row">
          <EventLine event={event} showDevice={showDevice} />
        </li>
      ))}
    </ol>
  );
}
