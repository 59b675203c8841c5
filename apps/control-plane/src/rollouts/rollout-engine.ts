import { Injectable, Logger } from '@nestjs/common';
import { type RolloutRow } from '../database/schema';
import { DeviceJobsService } from '../device-jobs/device-jobs.service';
import { orderDevices } from './phase-plan';
import { jobObservation, RolloutActions } from './rollout-actions';
import { ENGINE_ACTOR } from './rollout-draft';
import { STALE_OBSERVATION_BATCH, STALE_OBSERVATION_MS } from './rollout-queue';
import { stepRollout } from './rollout-step';
import { modelForDevice, storedSelector, variantRules } from './rollout-targeting';
import { RolloutTargetsRepository } from './rollout-targets.repository';
import { RolloutTriggers } from './rollout-triggers';
import { type Transaction } from '../database/database-connection';
import { type AuditActor, RolloutsRepository } from './rollouts.repository';
import { tagsMatch } from './selector-match';
import { type TagRequirement } from '../devices/tag-selector';

/** The audit log's actor for the engine's own transitions. */
export const ENGINE_AUDIT_ACTOR: AuditActor = { tokenId: null, name: ENGINE_ACTOR, role: null };

/**
 * Runs rollouts: one step at a time per rollout, under its row lock, from the state in the database (so any
 * replica can run the next step, and a restart continues where the last committed step left off), then issues
 * what the step decided.
 */
@Injectable()
export class RolloutEngine {
  private readonly logger = new Logger(RolloutEngine.name);

  constructor(
    private readonly rollouts: RolloutsRepository,
    private readonly targets: RolloutTargetsRepository,
    private readonly actions: RolloutActions,
    private readonly triggers: RolloutTriggers,
    private readonly deviceJobs: DeviceJobsService,
  ) {}

  async advance(rolloutId: string): Promise<void> {
    const now = new Date();
    const step = await this.rollouts.withLockedRollout(rolloutId, async (tx, rollout) => {
      const selector = storedSelector(rollout.selector);
      if (rollout.acceptsNewDevices) await this.addNewDevices(tx, rollout, selector);
      const snapshot = await this.rollouts.snapshot(tx, rollout, selector);
      const result = stepRollout(snapshot, now);
      await this.rollouts.applyStep(tx, rollout.id, result, ENGINE_AUDIT_ACTOR);
      return result;
    });
    if (step === undefined) return;
    for (const event of step.events.filter((e) => e.scope !== 'device'))
      this.logger.log(`rollout ${rolloutId}: ${event.scope} ${event.fromState ?? '-'} → ${event.toState}`);
    if (await this.actions.execute(rolloutId, step.cancelJobs)) await this.triggers.advance(rolloutId);
  }

  /**
   * The periodic pass: reads again job statuses whose change notification may have been lost (a restart, or a
   * time-out announced in another process), then asks for a step of every live rollout (soak timers,
   * time-outs, approvals, and whatever a restart interrupted).
   */
  async tick(): Promise<void> {
    for (const jobId of await this.targets.staleJobIds(STALE_OBSERVATION_MS, STALE_OBSERVATION_BATCH)) {
      const job = await this.deviceJobs.get(jobId).catch(() => undefined);
      if (job === undefined || (await this.targets.observe(jobObservation(job))).length === 0)
        await this.targets.touch(jobId);
    }
    for (const rolloutId of await this.rollouts.liveRolloutIds()) await this.triggers.advance(rolloutId);
  }

  /**
   * Devices that came to match a rollout accepting new devices join it, at the end of its order, unless a newer
   * rollout accepting new devices also selects them (the newest one takes a device).
   */
  private async addNewDevices(
    tx: Transaction,
    rollout: RolloutRow,
    selector: TagRequirement[],
  ): Promise<void> {
    const candidates = await this.rollouts.newlyMatchingDevices(tx, rollout, selector);
    if (candidates.length === 0) return;
    const newer = (await this.rollouts.newerAcceptingRollouts(tx, rollout)).map((other) =>
      storedSelector(other.selector),
    );
    const joining = candidates.filter(
      (device) => !newer.some((requirements) => tagsMatch(requirements, device.tags)),
    );
    const rules = variantRules(rollout.variants);
    const byId = new Map(joining.map((device) => [device.id, device]));
    const order = orderDevices([...byId.keys()], [], rollout.orderSeed);
    await this.rollouts.addTargets(
      tx,
      rollout.id,
      order.map((deviceId, index) => ({
        deviceId,
        position: index,
        state: 'pending' as const,
        model: modelForDevice(byId.get(deviceId)?.capabilities ?? null, rollout.model, rules),
      })),
      ENGINE_AUDIT_ACTOR,
    );
  }
}
