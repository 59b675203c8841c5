import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Queue } from 'bullmq';
import { EventIngestCounters } from '../events/event-ingest-counters';
import { ProtocolRejections } from '../messaging/protocol-rejections';
import { TelemetryIngestCounters } from '../telemetry/telemetry-ingest-counters';
import { type TelemetryQueryRepository } from '../telemetry/telemetry-query.repository';
import { type RolloutStatusRepository } from '../rollouts/rollout-status.repository';
import { MetricsRegistry } from './metrics-registry';

const DASHBOARD = join(__dirname, '../../../../infra/grafana/emofleet-dashboard.json');

function fakeQueue(name: string, waiting: number): Queue {
  return {
    name,
    getJobCounts: (...states: string[]) =>
      Promise.resolve(Object.fromEntries(states.map((state) => [state, state === 'waiting' ? waiting : 0]))),
  } as unknown as Queue;
}

function registryWith(events: EventIngestCounters, telemetry: TelemetryIngestCounters): MetricsRegistry {
  const presence = {
    modelPresence: () =>
      Promise.resolve([
        { modelId: 'fer', version: '2', devices: 3, online: 2 },
        { modelId: null, version: null, devices: 1, online: 0 },
      ]),
  } as unknown as TelemetryQueryRepository;
  const rolloutStatus = {
    fleetStatus: () =>
      Promise.resolve({
        byState: [
          { state: 'running', rollouts: 1 },
          { state: 'aborted', rollouts: 2 },
        ],
        inProgress: [
          {
            id: 'r1',
            name: 'fer v2',
            state: 'running',
            currentPhase: 2,
            devices: { healthy: 3, installing: 2 },
          },
        ],
        devicesByState: [],
      }),
  } as unknown as RolloutStatusRepository;
  const queues = [
    'telemetry-maintenance',
    'model-convert',
    'model-benchmark',
    'event-retention',
    'webhook-dispatch',
  ];
  return new MetricsRegistry(
    events,
    telemetry,
    new ProtocolRejections(),
    presence,
    ...(queues.map((name, index) => fakeQueue(name, index)) as [Queue, Queue, Queue, Queue, Queue]),
    fakeQueue('webhook-delivery', 7),
    rolloutStatus,
    fakeQueue('rollouts', 1),
  );
}

describe('MetricsRegistry', () => {
  it('reads the ingest counters, devices online and queue depths when scraped', async () => {
    const events = new EventIngestCounters();
    const telemetry = new TelemetryIngestCounters();
    const metrics = registryWith(events, telemetry);
    events.eventsStored = 42;
    telemetry.samplesStored = 7;
    telemetry.lastIngestLagMs = 250;
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/^emofleet_events_stored_total 42$/m);
    expect(text).toMatch(/^emofleet_telemetry_samples_stored_total 7$/m);
    expect(text).toMatch(/^emofleet_telemetry_ingest_lag_seconds 0.25$/m);
    expect(text).toMatch(/^emofleet_devices_online\{model="fer@2"\} 2$/m);
    expect(text).toMatch(/^emofleet_queue_jobs\{queue="webhook-delivery",state="waiting"\} 7$/m);
    expect(text).toMatch(/^emofleet_rollouts\{state="aborted"\} 2$/m);
    expect(text).toMatch(/^emofleet_rollout_devices\{rollout="r1",name="fer v2",state="installing"\} 2$/m);
    events.eventsStored = 43;
    expect(await metrics.registry.metrics()).toMatch(/^emofleet_events_stored_total 43$/m);
  });

  it('defines every metric the Grafana dashboard queries', async () => {
    const metrics = registryWith(new EventIngestCounters(), new TelemetryIngestCounters());
    const defined = new Set((await metrics.registry.getMetricsAsJSON()).map((metric) => metric.name));
    const dashboard = readFileSync(DASHBOARD, 'utf8');
    const queried = new Set(dashboard.match(/emofleet_[a-z_]+/g));
    expect(queried.size).toBeGreaterThan(5);
    for (const name of queried) expect({ name, defined: defined.has(name) }).toEqual({ name, defined: true });
  });
});
