import { HttpException, Injectable, Logger } from '@nestjs/common';
import { type RolloutRow, type RolloutTargetRow } from '../database/schema';
import { type DeviceJob } from '../device-jobs/device-job';
import { DeviceJobsService } from '../device-jobs/device-jobs.service';
import { deviceGate, healthCheckFor } from './device-gate';
import { DeviceGateFacts } from './device-gate-facts';
import {
  ACTION_CLAIM_RENEW_MS,
  type JobObservation,
  RolloutTargetsRepository,
  type TargetAction,
} from './rollout-targets.repository';
import { RolloutsRepository } from './rollouts.repository';

/** Starts and rollbacks issued at once by one engine step (each holds a pool connection while it runs). */
const ISSUE_CONCURRENCY = 8;
/**
 * Starts and rollbacks issued by one engine step; the rest wait for the next step, which the executor asks for.
 * Between the two, the engine counts the devices already done (a 10,000-device phase takes minutes to issue) and
 * other rollouts get their steps.
 */
const ISSUE_BATCH = 400;

/** The device-jobs actor of everything a rollout does. */
export const rolloutActor = (rolloutId: string): string => `rollout:${rolloutId}`;

/** A device job as the targets record it. */
export const jobObservation = (job: DeviceJob): JobObservation => ({
  jobId: job.jobId,
  status: job.status,
  versionNumber: job.versionNumber,
  statusDetails: job.statusDetails,
  desiredVersion: job.desiredVersion,
});

/**
 * Issues what a step decided, after its transaction committed: installs (assign the rollout's model with the
 * device's health check), rollbacks (assign the previous model again) and job cancellations. Each start or
 * rollback is claimed first so two replicas never issue it twice; the previous model and floors are recorded
 * before the install is assigned, so a crash in between never loses what to roll back to. Refusals (4xx) are
 * recorded on the target for the next step to turn into a failure; other errors release the claim and are
 * thrown (the engine's job is retried).
 */
@Injectable()
export class RolloutActions {
  private readonly logger = new Logger(RolloutActions.name);

  constructor(
    private readonly rollouts: RolloutsRepository,
    private readonly targets: RolloutTargetsRepository,
    private readonly deviceJobs: DeviceJobsService,
    private readonly facts: DeviceGateFacts,
  ) {}

  /**
   * Returns whether the rollout needs another step: a refusal was recorded (a failure to decide on), or more
   * actions are due than one step issues.
   */
  async execute(
    rolloutId: string,
    cancelJobs: ReadonlyArray<{ jobId: string; reason: string }>,
  ): Promise<boolean> {
    for (const { jobId, reason } of cancelJobs) {
      await this.deviceJobs.cancel(jobId, reason, rolloutActor(rolloutId)).catch((error: unknown) => {
        if (!(error instanceof HttpException)) throw error;
      });
    }
    const found = await this.targets.dueActions(rolloutId, ISSUE_BATCH + 1);
    if (found.length === 0) return false;
    const due = found.slice(0, ISSUE_BATCH);
    const rollout = await this.rollouts.find(rolloutId);
    if (rollout === undefined) return false;
    let refused = false;
    let transient: Error | undefined;
    // Each action is one device's own claim, job and desired state: independent of the others, so several are
    // issued at once. One at a time, 1,000 devices took 42-48 s to issue on two cores, mostly waiting on the
    // round trips of about fifteen statements each; eight at a time, 33-35 s (docs/benchmarks.md, bench:rollout).
    // ISSUE_CONCURRENCY keeps most of the pool for ingest meanwhile.
    let next = 0;
    const issueNext = async (): Promise<void> => {
      for (let item = due[next++]; item !== undefined; item = due[next++]) {
        const outcome = await this.issue(rollout, item.deviceId, item.action);
        if (outcome === 'refused') refused = true;
        else if (outcome instanceof Error) transient ??= outcome;
      }
    };
    // Every issuer ends before the step does, even when one fails (a database gone while recording a refusal).
    const issuers = await Promise.allSettled(
      Array.from({ length: Math.min(ISSUE_CONCURRENCY, due.length) }, issueNext),
    );
    const broken = issuers.find((issuer) => issuer.status === 'rejected');
    if (broken !== undefined) throw broken.reason;
    if (transient !== undefined) throw transient;
    return refused || found.length > due.length;
  }

  /**
   * Claims and issues one action. A refusal (4xx) is recorded on the target; another error releases the claim
   * and is returned, so the caller fails the engine's job (retried) after the other actions were issued.
   */
  private async issue(
    rollout: RolloutRow,
    deviceId: string,
    action: TargetAction,
  ): Promise<'issued' | 'refused' | 'not-due' | Error> {
    const target = await this.targets.claim(rollout.id, deviceId, action);
    if (target === undefined) return 'not-due';
    const heartbeat = this.renewWhileIssuing(rollout.id, deviceId);
    try {
      if (action === 'start') await this.start(rollout, target);
      else await this.rollBack(rollout, target);
      return 'issued';
    } catch (error) {
      if (error instanceof HttpException && error.getStatus() < 500) {
        await this.targets.recordActionError(rollout.id, deviceId, error.message);
        return 'refused';
      }
      this.logger.warn(
        `${action} of ${deviceId} in rollout ${rollout.id} failed, retrying: ${String(error)}`,
      );
      await this.targets.release(rollout.id, deviceId);
      return error instanceof Error ? error : new Error(String(error));
    } finally {
      clearInterval(heartbeat);
    }
  }

  /** Renews the claim every `ACTION_CLAIM_RENEW_MS` (stopped by the caller once the action is issued). */
  private renewWhileIssuing(rolloutId: string, deviceId: string): NodeJS.Timeout {
    const timer = setInterval(() => {
      this.targets.renewClaim(rolloutId, deviceId).catch((error: unknown) => {
        this.logger.warn(
          `could not renew the claim on ${deviceId} in rollout ${rolloutId}: ${String(error)}`,
        );
      });
    }, ACTION_CLAIM_RENEW_MS);
    timer.unref();
    return timer;
  }

  private async start(rollout: RolloutRow, target: RolloutTargetRow): Promise<void> {
    let { previous, gate } = target;
    if (previous === null || gate === null) {
      const facts = await this.facts.read(target.deviceId, target.model);
      previous = facts.previous;
      gate = deviceGate(rollout.gates, facts.inputs);
      await this.targets.recordPreviousAndGate(rollout.id, target.deviceId, previous, gate);
    }
    const job = await this.deviceJobs.assignModel({
      deviceId: target.deviceId,
      modelVersionId: target.model.modelVersionId,
      healthCheck: healthCheckFor(rollout.gates, gate),
      rolloutId: rollout.id,
      timeoutMs: rollout.installTimeoutSeconds * 1000,
      actor: rolloutActor(rollout.id),
    });
    await this.recordIssued(rollout.id, target.deviceId, 'start', job);
  }

  /**
   * Back to the model the device ran before: assigned again when the registry knows it (or when the device ran
   * none), else the device's own `rollback` job (it swaps back to its previous slot).
   */
  private async rollBack(rollout: RolloutRow, target: RolloutTargetRow): Promise<void> {
    const previous = target.previous;
    if (previous === null) throw new Error(`target ${target.deviceId} has no previous model to roll back to`);
    const job =
      previous.modelVersionId !== null || previous.model === null
        ? await this.deviceJobs.assignModel({
            deviceId: target.deviceId,
            modelVersionId: previous.modelVersionId,
            healthCheck: null,
            rolloutId: rollout.id,
            actor: rolloutActor(rollout.id),
          })
        : await this.deviceJobs.enqueueJob({
            deviceId: target.deviceId,
            operation: 'rollback',
            parameters: { reason: `rollout ${rollout.name} (${rollout.id})` },
            rolloutId: rollout.id,
            actor: rolloutActor(rollout.id),
          });
    await this.recordIssued(rollout.id, target.deviceId, 'rollback', job);
  }

  /**
   * Records the job on the target, then reads it once more: a change announced before the job id was recorded
   * found no target, and this read catches it (later changes find the recorded id).
   */
  private async recordIssued(
    rolloutId: string,
    deviceId: string,
    action: TargetAction,
    job: DeviceJob,
  ): Promise<void> {
    await this.targets.recordJob(rolloutId, deviceId, action, jobObservation(job));
    await this.targets.observe(jobObservation(await this.deviceJobs.get(job.jobId)));
  }
}
