import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import { type Queue } from 'bullmq';
import { Counter, Gauge, Registry } from 'prom-client';
import { EventIngestCounters } from '../events/event-ingest-counters';
import { ProtocolRejections } from '../messaging/protocol-rejections';
import { PipelineQueue } from '../pipeline/pipeline-queues';
import { TelemetryIngestCounters } from '../telemetry/telemetry-ingest-counters';
import { TELEMETRY_MAINTENANCE_QUEUE } from '../telemetry/telemetry-maintenance';
import { TelemetryQueryRepository } from '../telemetry/telemetry-query.repository';
import { EVENT_RETENTION_QUEUE } from '../events/event-retention';
import { WEBHOOK_DELIVERY_QUEUE, WEBHOOK_DISPATCH_QUEUE } from '../webhooks/webhook-queue';
import { RolloutQueue } from '../rollouts/rollout-queue';
import { RolloutStatusRepository } from '../rollouts/rollout-status.repository';

/** BullMQ job states whose counts are exported as queue depths. */
const QUEUE_STATES = ['waiting', 'active', 'delayed', 'failed', 'prioritized'] as const;

/**
 * The Prometheus metrics of this replica. Values are read from the domains' counters when scraped, so ingestion
 * pays nothing per message beyond incrementing a number. Counters are per process: sum them over replicas.
 */
@Injectable()
export class MetricsRegistry {
  readonly registry = new Registry();

  constructor(
    events: EventIngestCounters,
    telemetry: TelemetryIngestCounters,
    rejections: ProtocolRejections,
    telemetryQuery: TelemetryQueryRepository,
    @InjectQueue(TELEMETRY_MAINTENANCE_QUEUE) maintenanceQueue: Queue,
    @InjectQueue(PipelineQueue.Convert) convertQueue: Queue,
    @InjectQueue(PipelineQueue.Benchmark) benchmarkQueue: Queue,
    @InjectQueue(EVENT_RETENTION_QUEUE) retentionQueue: Queue,
    @InjectQueue(WEBHOOK_DISPATCH_QUEUE) dispatchQueue: Queue,
    @InjectQueue(WEBHOOK_DELIVERY_QUEUE) deliveryQueue: Queue,
    rolloutStatus: RolloutStatusRepository,
    @InjectQueue(RolloutQueue.Engine) rolloutQueue: Queue,
  ) {
    const registers = [this.registry];
    const counterFrom = (name: string, help: string, read: () => number) =>
      new Counter({
        name,
        help,
        registers,
        collect() {
          this.reset();
          this.inc(read());
        },
      });
    counterFrom(
      'emofleet_events_stored_total',
      'Emotion events inserted (first delivery)',
      () => events.eventsStored,
    );
    counterFrom(
      'emofleet_events_duplicate_total',
      'Emotion events received again after they were stored (redelivery, replay)',
      () => events.eventsDuplicate,
    );
    counterFrom(
      'emofleet_events_declared_lost_total',
      'Event sequence numbers devices declared lost (spool overflow)',
      () => events.eventsDeclaredLost,
    );
    counterFrom('emofleet_event_batches_stored_total', 'Event batches stored', () => events.batchesStored);
    counterFrom(
      'emofleet_event_batches_failed_total',
      'Event batches the database refused',
      () => events.batchesFailed,
    );
    counterFrom(
      'emofleet_event_acks_published_total',
      'events/ack messages published',
      () => events.acksPublished,
    );
    counterFrom(
      'emofleet_telemetry_samples_received_total',
      'Telemetry windows received from MQTT',
      () => telemetry.samplesReceived,
    );
    counterFrom(
      'emofleet_telemetry_samples_stored_total',
      'Telemetry windows inserted',
      () => telemetry.samplesStored,
    );
    counterFrom(
      'emofleet_telemetry_samples_dropped_total',
      'Telemetry windows dropped because their flush failed',
      () => telemetry.samplesDropped,
    );
    counterFrom('emofleet_telemetry_flushes_total', 'Telemetry batch writes', () => telemetry.flushes);
    new Gauge({
      name: 'emofleet_telemetry_ingest_lag_seconds',
      help: 'From the end of the newest window of the last telemetry flush to its commit',
      registers,
      collect() {
        this.set(telemetry.lastIngestLagMs / 1000);
      },
    });
    new Counter({
      name: 'emofleet_protocol_rejections_total',
      help: 'Device messages rejected by the protocol codec, by kind and reason',
      labelNames: ['kind', 'reason'],
      registers,
      collect() {
        this.reset();
        for (const [key, count] of Object.entries(rejections.snapshot().byKindAndReason)) {
          const [kind = 'unknown', reason = 'unknown'] = key.split('/');
          this.inc({ kind, reason }, count);
        }
      },
    });
    new Gauge({
      name: 'emofleet_devices_online',
      help: 'Devices in service that are online, by running model',
      labelNames: ['model'],
      registers,
      async collect() {
        this.reset();
        for (const entry of await telemetryQuery.modelPresence()) {
          const model = entry.modelId === null ? 'none' : `${entry.modelId}@${entry.version ?? ''}`;
          this.inc({ model }, entry.online);
        }
      },
    });
    new Gauge({
      name: 'emofleet_rollouts',
      help: 'Rollouts by state',
      labelNames: ['state'],
      registers,
      async collect() {
        this.reset();
        for (const entry of (await rolloutStatus.fleetStatus()).byState)
          this.set({ state: entry.state }, entry.rollouts);
      },
    });
    new Gauge({
      name: 'emofleet_rollout_devices',
      help: 'Devices of the rollouts in progress by their state in the rollout',
      labelNames: ['rollout', 'name', 'state'],
      registers,
      async collect() {
        this.reset();
        for (const rollout of (await rolloutStatus.fleetStatus()).inProgress) {
          for (const [state, devices] of Object.entries(rollout.devices))
            this.set({ rollout: rollout.id, name: rollout.name, state }, devices);
        }
      },
    });
    const queues = [
      maintenanceQueue,
      convertQueue,
      benchmarkQueue,
      retentionQueue,
      dispatchQueue,
      deliveryQueue,
      rolloutQueue,
    ];
    new Gauge({
      name: 'emofleet_queue_jobs',
      help: 'BullMQ jobs per queue and state',
      labelNames: ['queue', 'state'],
      registers,
      async collect() {
        this.reset();
        for (const queue of queues) {
          const counts = await queue.getJobCounts(...QUEUE_STATES);
          for (const state of QUEUE_STATES) this.set({ queue: queue.name, state }, counts[state] ?? 0);
        }
      },
    });
  }
}
