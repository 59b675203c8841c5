import { useMemo, useState } from 'react';
import { Link } from 'wouter';
import { useDevice } from '../../api/devices';
import { useRecentEvents } from '../../api/events';
import type { Device, EmotionEvent } from '../../api/types';
import { QueryState } from '../../components/QueryState';
import { RangePicker } from '../../components/RangePicker';
import { OnlineBadge } from '../../components/StatusBadge';
import { useNow } from '../../components/useNow';
import {
  formatAgo,
  formatDateTime,
  formatFixed,
  formatModelRef,
  formatPercent,
  formatTags,
} from '../../lib/format';
import { readTelemetrySnapshot } from '../../lib/telemetry-snapshot';
import { DEFAULT_TIME_RANGE } from '../../lib/time-ranges';
import { EventList } from '../events/EventRows';
import { StreamStatus } from '../events/StreamStatus';
import { useLiveEvents } from '../events/useLiveEvents';
import { DeviceActions } from './DeviceActions';
import { DeviceCharts } from './DeviceCharts';
import { ModelHistory } from './ModelHistory';

const RECENT_EVENTS = 50;

/** One device: what it is and runs, its time series, model history and recent expressions. */
export function DevicePage({ id }: { id: string }) {
  const device = useDevice(id);
  const [range, setRange] = useState(DEFAULT_TIME_RANGE);
  return (
    <QueryState isPending={device.isPending} error={device.error} what={`device ${id}`}>
      {device.data && (
        <>
          <div className="page-head">
            <h1>
              <Link href="/devices" className="muted">
                Devices
              </Link>{' '}
              / <span data-testid="device-title">{device.data.name}</span>
            </h1>
            <RangePicker value={range} onChange={setRange} />
          </div>
          <div className="grid">
            <DeviceFacts device={device.data} />
            <DeviceActions key={`${device.data.name}|${formatTags(device.data.tags)}`} device={device.data} />
          </div>
          <DeviceCharts deviceId={id} range={range} />
          <div className="grid">
            <ModelHistory deviceId={id} />
            <RecentEvents deviceId={id} />
          </div>
        </>
      )}
    </QueryState>
  );
}

function DeviceFacts({ device }: { device: Device }) {
  const now = useNow(1000);
  const telemetry = readTelemetrySnapshot(device.lastTelemetry);
  const capabilities = device.capabilities ?? {};
  const describe = (key: string) => {
    const value = capabilities[key];
    return Array.isArray(value)
      ? value.join(', ')
      : typeof value === 'string' || typeof value === 'number'
        ? String(value)
        : '–';
  };
  return (
    <section className="card" aria-labelledby="device-facts-title">
      <h2 id="device-facts-title">
        Device <OnlineBadge online={device.online} />
      </h2>
      <dl className="facts">
        <dt>id</dt>
        <dd>
          <code>{device.id}</code>
        </dd>
        <dt>tags</dt>
        <dd>{formatTags(device.tags) || <span className="muted">none</span>}</dd>
        <dt>running</dt>
        <dd data-testid="device-current-model">{formatModelRef(device.currentModel)}</dd>
        <dt>desired</dt>
        <dd>{formatModelRef(device.desiredModel)}</dd>
        <dt>last seen</dt>
        <dd title={formatDateTime(device.lastSeenAt)}>{formatAgo(device.lastSeenAt, now)}</dd>
        <dt>latest window</dt>
        <dd data-testid="device-latest">
          {formatFixed(telemetry.fps)} FPS · p95 {formatFixed(telemetry.latencyP95Ms)} ms ·{' '}
          {formatFixed(telemetry.maxTemperatureC)} °C · accuracy {formatPercent(telemetry.accuracy)}
        </dd>
        <dt>detector</dt>
        <dd>{describe('detectorBackends')}</dd>
        <dt>platform</dt>
        <dd>
          {describe('arch')} · agent {describe('agentVersion')}
          {device.simulated ? ' · simulated' : ''}
        </dd>
        <dt>registered</dt>
        <dd>{formatDateTime(device.createdAt)}</dd>
      </dl>
    </section>
  );
}

function RecentEvents({ deviceId }: { deviceId: string }) {
  const filter = useMemo(() => ({ device: deviceId }), [deviceId]);
  const recent = useRecentEvents(filter, 15);
  const live = useLiveEvents(filter, RECENT_EVENTS);
  const events = useMemo(() => {
    // Live events first (newest), then the loaded ones; an event can be in both.
    const byId = new Map<string, EmotionEvent>();
    for (const event of [...live.feed.events, ...(recent.data ?? [])])
      if (!byId.has(event.id)) byId.set(event.id, event);
    return [...byId.values()].slice(0, RECENT_EVENTS);
  }, [live.feed.events, recent.data]);
  return (
    <section className="card" aria-labelledby="recent-events-title">
      <div className="card-head">
        <h2 id="recent-events-title">Recent events</h2>
        <StreamStatus state={live.state} />
      </div>
      <QueryState isPending={recent.isPending} error={recent.error} what="recent events">
        <EventList events={events} showDevice={false} testId="device-events" />
      </QueryState>
    </section>
  );
}
