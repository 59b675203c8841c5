import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { decodeMessage, TopicScheme } from '@emofleet/protocol';
import { type AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { type DeviceJobChange } from '../device-jobs/device-job';
import { DeviceJobChanges } from '../device-jobs/device-jobs.service';
import { StatementBatcher } from '../database/statement-batcher';
import { MqttAdapter } from '../messaging/mqtt.adapter';
import { jobObservation } from './rollout-actions';
import { type JobObservation, RolloutTargetsRepository } from './rollout-targets.repository';
import { RolloutTriggers } from './rollout-triggers';
import { RolloutsRepository } from './rollouts.repository';

/** At most this many devices per lookup of the rollouts watching them (one statement). */
const MAX_DEVICES_PER_LOOKUP = 1000;
/** At most this many job statuses recorded on targets at once (two statements). */
const MAX_OBSERVATIONS_PER_WRITE = 1000;
const TIMEOUT_ATTEMPTS = 2;

/**
 * What wakes a rollout between ticks: a status change of one of its jobs (recorded on the target, many changes
 * in one write, then a step), and a device coming online (catch-up of a device that was offline, crash-loop check of a soaking one,
 * a new device for rollouts that accept them); the rollouts watching devices coming online at once are looked up
 * for all of them in one statement. A birth reporting the agent's own crash-loop rollback
 * (`lastRollback`) is recorded on the install it concerns. Presence comes from the retained birth and state
 * topics, which every replica receives (not shared).
 */
@Injectable()
export class RolloutWakeups implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(RolloutWakeups.name);
  private readonly topics: TopicScheme;
  private unsubscribe: (() => void) | undefined;
  /** The rollouts watching each device coming online, looked up for many devices at once. */
  private readonly watching: StatementBatcher<string, string[]>;
  /** Job statuses recorded on their targets, many at once (a rollout's devices report together). */
  private readonly observations: StatementBatcher<JobObservation, string[]>;

  constructor(
    private readonly changes: DeviceJobChanges,
    private readonly targets: RolloutTargetsRepository,
    rollouts: RolloutsRepository,
    private readonly triggers: RolloutTriggers,
    private readonly mqtt: MqttAdapter,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.topics = new TopicScheme(config.mqtt.topicPrefix);
    this.watching = new StatementBatcher({
      what: 'lookups of the rollouts watching devices that came online',
      run: (deviceIds) => rollouts.rolloutsWatching(deviceIds),
      maxWeight: MAX_DEVICES_PER_LOOKUP,
      timeoutAttempts: TIMEOUT_ATTEMPTS,
      whenFailed: 'those rollouts go on at their next tick',
      logger: this.logger,
    });
    this.observations = new StatementBatcher({
      what: 'job statuses recorded on rollout targets',
      run: (jobs) => targets.observeMany(jobs),
      maxWeight: MAX_OBSERVATIONS_PER_WRITE,
      timeoutAttempts: TIMEOUT_ATTEMPTS,
      whenFailed: 'the engine reads those jobs again when their statuses are stale',
      logger: this.logger,
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    this.unsubscribe = this.changes.subscribe((change) => this.onJobChange(change));
    await this.mqtt.connect();
    const handler = (topic: string, payload: Buffer) => this.onPresence(topic, payload);
    await this.mqtt.subscribe(this.topics.filterFor('birth'), handler, { shared: false });
    await this.mqtt.subscribe(this.topics.filterFor('state'), handler, { shared: false });
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
  }

  private async onJobChange(change: DeviceJobChange): Promise<void> {
    const rolloutIds = new Set(await this.observations.submit(jobObservation(change.job)));
    if (change.job.rolloutId !== null) rolloutIds.add(change.job.rolloutId);
    for (const rolloutId of rolloutIds) await this.triggers.advance(rolloutId);
  }

  private async onPresence(topic: string, payload: Buffer): Promise<void> {
    const decoded = decodeMessage(topic, payload, { topics: this.topics });
    if (!decoded.ok) return;
    if (decoded.kind === 'state' && decoded.message.state !== 'online') return;
    if (decoded.kind !== 'state' && decoded.kind !== 'birth') return;
    const watching = new Set(await this.watching.submit(decoded.deviceId));
    const report = decoded.kind === 'birth' ? decoded.message.lastRollback : undefined;
    if (report !== undefined) {
      for (const rolloutId of await this.targets.recordCrashReport(decoded.deviceId, report))
        watching.add(rolloutId);
    }
    for (const rolloutId of watching) {
      this.logger.debug(`${decoded.deviceId} is online: stepping rollout ${rolloutId}`);
      await this.triggers.advance(rolloutId);
    }
  }
}
