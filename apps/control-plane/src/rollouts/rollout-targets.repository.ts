import { Injectable } from '@nestjs/common';
import { type AutomaticRollback, type JobExecutionStatus, type JobStatusDetails } from '@emofleet/protocol';
import { and, asc, eq, inArray, isNotNull, isNull, lt, or, sql } from 'drizzle-orm';
import { DatabaseAdapter } from '../database/database.adapter';
import {
  type PreviousModel,
  rollouts,
  type RolloutTargetRow,
  rolloutTargets,
  type TargetGate,
} from '../database/schema';

/**
 * A claim on a start or rollback not renewed for this long is taken over (its replica died while issuing it).
 * The replica issuing the action renews its claim every `ACTION_CLAIM_RENEW_MS` until it is done, however long
 * the calls take, so the claim of a running replica stays fresh (unless its event loop or the database stalls
 * for 15 s) and a dead replica's claim lapses within this time (the engine's 2 s tick then issues the action).
 */
export const ACTION_CLAIM_TIMEOUT_MS = 20_000;
export const ACTION_CLAIM_RENEW_MS = 5_000;

/** A job status as observed from the device-jobs layer. */
export interface JobObservation {
  jobId: string;
  status: JobExecutionStatus;
  versionNumber: number;
  statusDetails: JobStatusDetails;
  /** The desired state version an apply job installs. */
  desiredVersion: number | null;
}

const PENDING_STATUSES: readonly JobExecutionStatus[] = ['QUEUED', 'IN_PROGRESS'];

export type TargetAction = 'start' | 'rollback';

/**
 * The targets' side of the device-jobs layer: which starts and rollbacks are due and who issues them (claims),
 * what was issued (job ids, previous model, floors), and job statuses as observed (they only move forward).
 */
@Injectable()
export class RolloutTargetsRepository {
  constructor(private readonly database: DatabaseAdapter) {}

  /** The first `limit` devices of the rollout (in its order) whose start or rollback is due and not issued yet. */
  async dueActions(
    rolloutId: string,
    limit: number,
  ): Promise<Array<{ deviceId: string; action: TargetAction }>> {
    const rows = await this.database.db
      .select({ deviceId: rolloutTargets.deviceId, state: rolloutTargets.state })
      .from(rolloutTargets)
      .where(
        and(
          eq(rolloutTargets.rolloutId, rolloutId),
          isNull(rolloutTargets.actionError),
          or(
            and(eq(rolloutTargets.state, 'installing'), isNull(rolloutTargets.jobId)),
            and(eq(rolloutTargets.state, 'rolling-back'), isNull(rolloutTargets.rollbackJobId)),
          ),
        ),
      )
      .orderBy(asc(rolloutTargets.position))
      .limit(limit);
    return rows.map((row) => ({
      deviceId: row.deviceId,
      action: row.state === 'installing' ? 'start' : 'rollback',
    }));
  }

  /** Takes the action on a target for this replica; undefined when it is not due or another replica has it. */
  async claim(
    rolloutId: string,
    deviceId: string,
    action: TargetAction,
  ): Promise<RolloutTargetRow | undefined> {
    const due =
      action === 'start'
        ? and(eq(rolloutTargets.state, 'installing'), isNull(rolloutTargets.jobId))
        : and(eq(rolloutTargets.state, 'rolling-back'), isNull(rolloutTargets.rollbackJobId));
    const [row] = await this.database.db
      .update(rolloutTargets)
      .set({ actionClaimedAt: sql`now()`, updatedAt: sql`now()` })
      .where(
        and(
          eq(rolloutTargets.rolloutId, rolloutId),
          eq(rolloutTargets.deviceId, deviceId),
          due,
          isNull(rolloutTargets.actionError),
          or(
            isNull(rolloutTargets.actionClaimedAt),
            lt(
              rolloutTargets.actionClaimedAt,
              sql`now() - ${ACTION_CLAIM_TIMEOUT_MS} * interval '1 millisecond'`,
            ),
          ),
        ),
      )
      .returning();
    return row;
  }

  /** Extends this replica's live claim (its heartbeat while issuing); false when the claim is gone. */
  async renewClaim(rolloutId: string, deviceId: string): Promise<boolean> {
    const renewed = await this.database.db
      .update(rolloutTargets)
      .set({ actionClaimedAt: sql`now()` })
      .where(
        and(
          eq(rolloutTargets.rolloutId, rolloutId),
          eq(rolloutTargets.deviceId, deviceId),
          isNotNull(rolloutTargets.actionClaimedAt),
        ),
      )
      .returning({ deviceId: rolloutTargets.deviceId });
    return renewed.length > 0;
  }

  /** Gives a claim back (a transient error): the next step of the rollout issues the action again. */
  async release(rolloutId: string, deviceId: string): Promise<void> {
    await this.database.db
      .update(rolloutTargets)
      .set({ actionClaimedAt: null })
      .where(and(eq(rolloutTargets.rolloutId, rolloutId), eq(rolloutTargets.deviceId, deviceId)));
  }

  /** Records the model a device runs and its floors before its install is issued (once). */
  async recordPreviousAndGate(
    rolloutId: string,
    deviceId: string,
    previous: PreviousModel,
    gate: TargetGate,
  ): Promise<void> {
    await this.database.db
      .update(rolloutTargets)
      .set({ previous, gate, updatedAt: sql`now()` })
      .where(
        and(
          eq(rolloutTargets.rolloutId, rolloutId),
          eq(rolloutTargets.deviceId, deviceId),
          isNull(rolloutTargets.previous),
        ),
      );
  }

  async recordJob(
    rolloutId: string,
    deviceId: string,
    action: TargetAction,
    job: JobObservation,
  ): Promise<void> {
    const target = and(eq(rolloutTargets.rolloutId, rolloutId), eq(rolloutTargets.deviceId, deviceId));
    if (action === 'start') {
      await this.database.db
        .update(rolloutTargets)
        .set({
          jobId: job.jobId,
          jobStatus: job.status,
          jobVersion: job.versionNumber,
          jobDetails: job.statusDetails,
          jobDesiredVersion: job.desiredVersion,
          jobObservedAt: sql`now()`,
          updatedAt: sql`now()`,
        })
        .where(and(target, isNull(rolloutTargets.jobId)));
    } else {
      await this.database.db
        .update(rolloutTargets)
        .set({
          rollbackJobId: job.jobId,
          rollbackJobStatus: job.status,
          rollbackJobVersion: job.versionNumber,
          rollbackJobDetails: job.statusDetails,
          jobObservedAt: sql`now()`,
          updatedAt: sql`now()`,
        })
        .where(and(target, isNull(rolloutTargets.rollbackJobId)));
    }
  }

  /** Why an action could not be issued (the next step turns it into a failure). */
  async recordActionError(rolloutId: string, deviceId: string, error: string): Promise<void> {
    await this.database.db
      .update(rolloutTargets)
      .set({ actionError: error.slice(0, 1000), actionClaimedAt: null, updatedAt: sql`now()` })
      .where(and(eq(rolloutTargets.rolloutId, rolloutId), eq(rolloutTargets.deviceId, deviceId)));
  }

  /**
   * Records a job status on the target (install or rollback) whose job it is, unless a newer status is already
   * recorded; a finished status is never replaced. Returns the rollout ids it concerned.
   */
  async observe(job: JobObservation): Promise<string[]> {
    const installs = await this.database.db
      .update(rolloutTargets)
      .set({
        jobStatus: job.status,
        jobVersion: job.versionNumber,
        jobDetails: job.statusDetails,
        jobObservedAt: sql`now()`,
      })
      .where(
        and(
          eq(rolloutTargets.jobId, job.jobId),
          or(isNull(rolloutTargets.jobStatus), inArray(rolloutTargets.jobStatus, [...PENDING_STATUSES])),
          or(isNull(rolloutTargets.jobVersion), lt(rolloutTargets.jobVersion, job.versionNumber)),
        ),
      )
      .returning({ rolloutId: rolloutTargets.rolloutId });
    const rollbacks = await this.database.db
      .update(rolloutTargets)
      .set({
        rollbackJobStatus: job.status,
        rollbackJobVersion: job.versionNumber,
        rollbackJobDetails: job.statusDetails,
        jobObservedAt: sql`now()`,
      })
      .where(
        and(
          eq(rolloutTargets.rollbackJobId, job.jobId),
          or(
            isNull(rolloutTargets.rollbackJobStatus),
            inArray(rolloutTargets.rollbackJobStatus, [...PENDING_STATUSES]),
          ),
          or(
            isNull(rolloutTargets.rollbackJobVersion),
            lt(rolloutTargets.rollbackJobVersion, job.versionNumber),
          ),
        ),
      )
      .returning({ rolloutId: rolloutTargets.rolloutId });
    return [...new Set([...installs, ...rollbacks].map((row) => row.rolloutId))];
  }

  /**
   * Job ids of targets under way whose recorded status is unfinished and was not refreshed for `olderThanMs`
   * (a change notification lost to a restart, or announced in another process), to read again.
   */
  async staleJobIds(olderThanMs: number, limit: number): Promise<string[]> {
    const stale = or(
      isNull(rolloutTargets.jobObservedAt),
      lt(rolloutTargets.jobObservedAt, sql`now() - ${olderThanMs} * interval '1 millisecond'`),
    );
    const rows = await this.database.db
      .select({
        jobId: rolloutTargets.jobId,
        jobStatus: rolloutTargets.jobStatus,
        state: rolloutTargets.state,
        rollbackJobId: rolloutTargets.rollbackJobId,
        rollbackJobStatus: rolloutTargets.rollbackJobStatus,
      })
      .from(rolloutTargets)
      .innerJoin(rollouts, eq(rollouts.id, rolloutTargets.rolloutId))
      .where(
        and(
          stale,
          or(
            and(
              eq(rolloutTargets.state, 'installing'),
              isNotNull(rolloutTargets.jobId),
              or(isNull(rolloutTargets.jobStatus), inArray(rolloutTargets.jobStatus, [...PENDING_STATUSES])),
            ),
            and(
              eq(rolloutTargets.state, 'rolling-back'),
              isNotNull(rolloutTargets.rollbackJobId),
              or(
                isNull(rolloutTargets.rollbackJobStatus),
                inArray(rolloutTargets.rollbackJobStatus, [...PENDING_STATUSES]),
              ),
            ),
          ),
        ),
      )
      .orderBy(asc(rolloutTargets.jobObservedAt))
      .limit(limit);
    return rows
      .map((row) => (row.state === 'installing' ? row.jobId : row.rollbackJobId))
      .filter((id): id is string => id !== null);
  }

  /**
   * Records the agent's report of a crash-loop rollback (its birth's `lastRollback`) on the install it concerns
   * (same device and desired version), once. Returns the rollout ids it concerned.
   */
  async recordCrashReport(deviceId: string, report: AutomaticRollback): Promise<string[]> {
    const rows = await this.database.db
      .update(rolloutTargets)
      .set({ crashReport: report, updatedAt: sql`now()` })
      .where(
        and(
          eq(rolloutTargets.deviceId, deviceId),
          eq(rolloutTargets.jobDesiredVersion, report.desiredVersion),
          isNull(rolloutTargets.crashReport),
          inArray(rolloutTargets.state, ['installing', 'soaking', 'healthy']),
        ),
      )
      .returning({ rolloutId: rolloutTargets.rolloutId });
    return rows.map((row) => row.rolloutId);
  }

  /** Marks a job's targets as read now (the job is unchanged), so the next refresh skips them for a while. */
  async touch(jobId: string): Promise<void> {
    await this.database.db
      .update(rolloutTargets)
      .set({ jobObservedAt: sql`now()` })
      .where(or(eq(rolloutTargets.jobId, jobId), eq(rolloutTargets.rollbackJobId, jobId)));
  }
}
