import { useVirtualizer } from '@tanstack/react-virtual';
import { type FormEvent, useMemo, useRef, useState } from 'react';
import type { EventStreamFilter } from '../../api/event-stream';
import type { EmotionEvent } from '../../api/types';
import { RangePicker } from '../../components/RangePicker';
import { labelsToShow } from '../../lib/event-feed';
import { DEFAULT_TIME_RANGE } from '../../lib/time-ranges';
import { EventRateChart } from '../fleet/EventRateChart';
import { EventLine } from './EventRows';
import { StreamStatus } from './StreamStatus';
import { useLiveEvents } from './useLiveEvents';

const FEED_CAPACITY = 500;
const ROW_HEIGHT = 34;

interface FilterForm {
  label: string;
  device: string;
  tags: string;
  minScore: string;
  model: string;
}

const EMPTY_FORM: FilterForm = { label: '', device: '', tags: '', minScore: '', model: '' };

function toFilter(form: FilterForm): EventStreamFilter {
  const minScore = Number(form.minScore);
  return {
    ...(form.label ? { label: form.label } : {}),
    ...(form.device.trim() ? { device: form.device.trim() } : {}),
    ...(form.tags.trim() ? { tags: form.tags.trim() } : {}),
    ...(form.model.trim() ? { model: form.model.trim() } : {}),
    ...(form.minScore.trim() !== '' && Number.isFinite(minScore) ? { minScore } : {}),
  };
}

/** The live event feed (SSE) with filters, counts since the page opened, and counts per label over time. */
export function EventsPage() {
  const [form, setForm] = useState<FilterForm>(EMPTY_FORM);
  const [filter, setFilter] = useState<EventStreamFilter>({});
  const [paused, setPaused] = useState(false);
  const [range, setRange] = useState(DEFAULT_TIME_RANGE);
  const { feed, state } = useLiveEvents(filter, FEED_CAPACITY, paused);
  const labels = useMemo(() => labelsToShow(Object.keys(feed.countsByLabel)), [feed.countsByLabel]);

  const apply = (event: FormEvent) => {
    event.preventDefault();
    setFilter(toFilter(form));
  };

  return (
    <>
      <div className="page-head">
        <h1>Events</h1>
        <RangePicker value={range} onChange={setRange} />
      </div>
      <form className="filters" onSubmit={apply} aria-label="Event filters">
        <label className="field">
          <span>Label</span>
          <select
            value={form.label}
            onChange={(event) => setForm({ ...form, label: event.target.value })}
            data-testid="events-label"
          >
            <option value="">all</option>
            {labels.map((label) => (
              <option key={label} value={label}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span>Device id</span>
          <input value={form.device} onChange={(event) => setForm({ ...form, device: event.target.value })} />
        </label>
        <label className="field">
          <span>Tag selector</span>
          <input
            placeholder="site=lab"
            value={form.tags}
            onChange={(event) => setForm({ ...form, tags: event.target.value })}
          />
        </label>
        <label className="field">
          <span>Min score</span>
          <input
            type="number"
            min={0}
            max={1}
            step={0.05}
            value={form.minScore}
            onChange={(event) => setForm({ ...form, minScore: event.target.value })}
          />
        </label>
        <label className="field">
          <span>Model id</span>
          <input value={form.model} onChange={(event) => setForm({ ...form, model: event.target.value })} />
        </label>
        <div className="row">
          <button type="submit" className="primary" data-testid="events-apply">
            Apply
          </button>
          <button
            type="button"
            onClick={() => {
              setForm(EMPTY_FORM);
              setFilter({});
            }}
          >
            Clear
          </button>
        </div>
      </form>
      <div className="grid">
        <section className="card wide" aria-labelledby="feed-title">
          <div className="card-head">
            <h2 id="feed-title">Live feed</h2>
            <div className="row">
              <StreamStatus state={paused ? { status: 'connecting' } : state} />
              <button type="button" onClick={() => setPaused(!paused)} data-testid="events-pause">
                {paused ? 'Resume' : 'Pause'}
              </button>
            </div>
          </div>
          <ul className="label-counts" data-testid="event-label-counts">
            {labels.map((label) => (
              <li key={label} className={`label-${label}`}>
                {label} <strong>{feed.countsByLabel[label] ?? 0}</strong>
              </li>
            ))}
            <li>
              total <strong data-testid="events-received">{feed.received}</strong> since opened
            </li>
          </ul>
          <EventFeedList events={feed.events} />
        </section>
        <EventRateChart
          range={range}
          filter={filter}
          title="Counts per label over time"
          testId="event-counts-chart"
        />
      </div>
    </>
  );
}

/** The newest 500 events, virtualised (at 50 events/s the list changes every batch, not every event). */
function EventFeedList({ events }: { events: readonly EmotionEvent[] }) {
  const scroller = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: events.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 10,
    getItemKey: (index) => events[index]?.id ?? index,
  });
  if (events.length === 0) return <p className="muted">Waiting for events…</p>;
  return (
    <div ref={scroller} className="feed-scroll" data-testid="event-feed">
      <ol className="event-list" style={{ height: virtualizer.getTotalSize() }}>
        {virtualizer.getVirtualItems().map((item) => {
          const event = events[item.index];
          return event === undefined ? null : (
            <li
              key={item.key}
              className="event-row"
              style={{ transform: `translateY(${item.start}px)`, height: ROW_HEIGHT }}
            >
              <EventLine event={event} />
            </li>
          );
        })}
      </ol>
    </div>
  );
}
