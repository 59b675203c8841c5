import { HttpException, Injectable, Logger } from '@nestjs/common';
import {
  type PreviousModel,
  type RolloutRow,
  type RolloutTargetRow,
  type TargetGate,
} from '../database/schema';
import { type DeviceJob } from '../device-jobs/device-job';
import { type AssignmentOutcome, DeviceJobsService } from '../device-jobs/device-jobs.service';
import { deviceGate, healthCheckFor } from './device-gate';
import { DeviceGateFacts } from './device-gate-facts';
import {
  ACTION_CLAIM_RENEW_MS,
  type JobObservation,
  RolloutTargetsRepository,
  type TargetAction,
} from './rollout-targets.repository';
import { RolloutsRepository } from './rollouts.repository';

/**
 * Starts and rollbacks issued by one engine step; the rest wait for the next step, which the executor asks for.
 * Between the two, the engine counts the devices already done and other rollouts get their steps.
 */
const ISSUE_BATCH = 400;
/**
 * Starts issued together: one claim, one read of their floors' facts, one transaction for their jobs and desired
 * states, one Redis round trip for their time-outs, two reads for their publications. One device at a time took
 * about fifteen statements each; a 10,000-device phase then took 529-537 s to issue on two cores
 * (docs/benchmarks.md, bench:rollout).
 */
const START_CHUNK = 100;
/** Chunks of starts, and single rollbacks, issued at once by one step (each holds a pool connection). */
const ISSUE_CONCURRENCY = 4;

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
 * before the install is assigned, so a crash in between never loses what to roll back to. Starts are issued in
 * chunks (`START_CHUNK`), rollbacks one by one. Refusals (4xx) are recorded on the target for the next step to
 * turn into a failure; other errors release the claims and are thrown (the engine's job is retried).
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
    const starts = due.filter((item) => item.action === 'start').map((item) => item.deviceId);
    const tasks: Array<() => Promise<IssueOutcome>> = [
      ...chunks(starts, START_CHUNK).map((chunk) => () => this.issue(rollout, chunk, 'start')),
      ...due
        .filter((item) => item.action === 'rollback')
        .map((item) => () => this.issue(rollout, [item.deviceId], 'rollback')),
    ];
    let refused = false;
    let transient: Error | undefined;
    let next = 0;
    const issueNext = async (): Promise<void> => {
      for (let task = tasks[next++]; task !== undefined; task = tasks[next++]) {
        const outcome = await task();
        if (outcome.refused) refused = true;
        transient ??= outcome.failure;
      }
    };
    // Every issuer ends before the step does, even when one fails (a database gone while recording a refusal).
    const issuers = await Promise.allSettled(
      Array.from({ length: Math.min(ISSUE_CONCURRENCY, tasks.length) }, issueNext),
    );
    const broken = issuers.find((issuer) => issuer.status === 'rejected');
    if (broken !== undefined) throw broken.reason;
    if (transient !== undefined) throw transient;
    return refused || found.length > due.length;
  }

  /**
   * Claims and issues the action on devices. Refusals (4xx) are recorded on their targets; another error
   * releases the claims still held and is returned, so the caller fails the engine's job (retried) after the
   * other actions were issued.
   */
  private async issue(
    rollout: RolloutRow,
    deviceIds: readonly string[],
    action: TargetAction,
  ): Promise<IssueOutcome> {
    const claimed = await this.targets.claim(rollout.id, deviceIds, action);
    if (claimed.length === 0) return { refused: false };
    const claimedIds = claimed.map((target) => target.deviceId);
    const heartbeat = this.renewWhileIssuing(rollout.id, claimedIds);
    try {
      const refusals =
        action === 'start' ? await this.start(rollout, claimed) : await this.rollBack(rollout, claimed);
      for (const { deviceId, error } of refusals) {
        await this.targets.recordActionError(rollout.id, deviceId, error.message);
      }
      return { refused: refusals.length > 0 };
    } catch (error) {
      this.logger.warn(
        `${action} of ${describeDevices(claimedIds)} in rollout ${rollout.id} failed, retrying: ${String(error)}`,
      );
      await this.targets.release(rollout.id, claimedIds);
      return { refused: false, failure: error instanceof Error ? error : new Error(String(error)) };
    } finally {
      clearInterval(heartbeat);
    }
  }

  /** Renews the claims every `ACTION_CLAIM_RENEW_MS` (stopped by the caller once the actions are issued). */
  private renewWhileIssuing(rolloutId: string, deviceIds: readonly string[]): NodeJS.Timeout {
    const timer = setInterval(() => {
      this.targets.renewClaims(rolloutId, deviceIds).catch((error: unknown) => {
        this.logger.warn(
          `could not renew the claims on ${describeDevices(deviceIds)} in rollout ${rolloutId}: ${String(error)}`,
        );
      });
    }, ACTION_CLAIM_RENEW_MS);
    timer.unref();
    return timer;
  }

  /** Assigns the rollout's model to claimed targets, after recording the previous model and floors of each. */
  private async start(rollout: RolloutRow, targets: readonly RolloutTargetRow[]): Promise<Refusal[]> {
    const gates = new Map<string, TargetGate>();
    const unrecorded: RolloutTargetRow[] = [];
    for (const target of targets) {
      if (target.previous !== null && target.gate !== null) gates.set(target.deviceId, target.gate);
      else unrecorded.push(target);
    }
    const recorded: Array<{ deviceId: string; previous: PreviousModel; gate: TargetGate }> = [];
    // A batch's targets share the rollout's model unless variants give some another one.
    for (const group of groupByModel(unrecorded)) {
      const facts = await this.facts.read(
        group.targets.map((target) => target.deviceId),
        group.model,
      );
      for (const [deviceId, { previous, inputs }] of facts) {
        const gate = deviceGate(rollout.gates, inputs);
        gates.set(deviceId, gate);
        recorded.push({ deviceId, previous, gate });
      }
    }
    await this.targets.recordPreviousAndGates(rollout.id, recorded);
    const outcomes = await this.deviceJobs.assignModels(
      targets.map((target) => {
        const gate = gates.get(target.deviceId);
        if (gate === undefined) throw new Error(`no floors were derived for ${target.deviceId}`);
        return {
          deviceId: target.deviceId,
          modelVersionId: target.model.modelVersionId,
          healthCheck: healthCheckFor(rollout.gates, gate),
          rolloutId: rollout.id,
          timeoutMs: rollout.installTimeoutSeconds * 1000,
          actor: rolloutActor(rollout.id),
        };
      }),
    );
    return this.recordIssued(
      rollout.id,
      'start',
      targets.map((target, index) => ({ deviceId: target.deviceId, outcome: outcomes[index] })),
    );
  }

  /**
   * Back to the model each device ran before: assigned again when the registry knows it (or when the device ran
   * none), else the device's own `rollback` job (it swaps back to its previous slot).
   */
  private async rollBack(rollout: RolloutRow, targets: readonly RolloutTargetRow[]): Promise<Refusal[]> {
    const issued: Array<{ deviceId: string; outcome: AssignmentOutcome }> = [];
    for (const target of targets) {
      const previous = target.previous;
      if (previous === null)
        throw new Error(`target ${target.deviceId} has no previous model to roll back to`);
      let outcome: AssignmentOutcome | undefined;
      if (previous.modelVersionId !== null || previous.model === null) {
        [outcome] = await this.deviceJobs.assignModels([
          {
            deviceId: target.deviceId,
            modelVersionId: previous.modelVersionId,
            healthCheck: null,
            rolloutId: rollout.id,
            actor: rolloutActor(rollout.id),
          },
        ]);
      } else {
        outcome = await this.deviceJobs
          .enqueueJob({
            deviceId: target.deviceId,
            operation: 'rollback',
            parameters: { reason: `rollout ${rollout.name} (${rollout.id})` },
            rolloutId: rollout.id,
            actor: rolloutActor(rollout.id),
          })
          .then(
            (job): AssignmentOutcome => ({ ok: true, job }),
            (error: unknown): AssignmentOutcome => {
              if (error instanceof HttpException && error.getStatus() < 500) return { ok: false, error };
              throw error;
            },
          );
      }
      issued.push({ deviceId: target.deviceId, outcome: outcome ?? unissued(target.deviceId) });
    }
    return this.recordIssued(rollout.id, 'rollback', issued);
  }

  /**
   * Records the issued jobs on their targets, then reads them once more: a change announced before a job id was
   * recorded found no target, and this read catches it (later changes find the recorded id). Returns the
   * refusals.
   */
  private async recordIssued(
    rolloutId: string,
    action: TargetAction,
    outcomes: ReadonlyArray<{ deviceId: string; outcome: AssignmentOutcome | undefined }>,
  ): Promise<Refusal[]> {
    const issued: Array<{ deviceId: string; job: DeviceJob }> = [];
    const refusals: Refusal[] = [];
    for (const { deviceId, outcome } of outcomes) {
      if (outcome === undefined) unissued(deviceId);
      else if (outcome.ok) issued.push({ deviceId, job: outcome.job });
      else refusals.push({ deviceId, error: outcome.error });
    }
    await this.targets.recordJobs(
      rolloutId,
      action,
      issued.map(({ deviceId, job }) => ({ deviceId, job: jobObservation(job) })),
    );
    const issuedVersion = new Map(issued.map(({ job }) => [job.jobId, job.versionNumber]));
    for (const job of await this.deviceJobs.getMany(issued.map(({ job }) => job.jobId))) {
      if (job.versionNumber !== issuedVersion.get(job.jobId)) await this.targets.observe(jobObservation(job));
    }
    return refusals;
  }
}

interface IssueOutcome {
  /** A refusal was recorded on a target. */
  refused: boolean;
  /** A transient error: the claims were released, the engine's job fails and is retried. */
  failure?: Error;
}

interface Refusal {
  deviceId: string;
  error: HttpException;
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let start = 0; start < items.length; start += size) result.push(items.slice(start, start + size));
  return result;
}

function groupByModel(
  targets: readonly RolloutTargetRow[],
): Array<{ model: RolloutTargetRow['model']; targets: RolloutTargetRow[] }> {
  const groups = new Map<string, { model: RolloutTargetRow['model']; targets: RolloutTargetRow[] }>();
  for (const target of targets) {
    const key = target.model.modelVersionId;
    const group = groups.get(key) ?? { model: target.model, targets: [] };
    group.targets.push(target);
    groups.set(key, group);
  }
  return [...groups.values()];
}

function describeDevices(deviceIds: readonly string[]): string {
  return deviceIds.length === 1
    ? (deviceIds[0] ?? '')
    : `${deviceIds.length} devices (${deviceIds[0] ?? ''}, ...)`;
}

function unissued(deviceId: string): never {
  throw new Error(`no outcome for the action on ${deviceId}`);
}
