import { Injectable } from '@nestjs/common';
import { type AutomaticRollback, type JobExecutionStatus, type JobStatusDetails } from '@emofleet/protocol';
import { and, asc, eq, inArray, isNotNull, isNull, lt, or, sql } from 'drizzle-orm';
import { DatabaseAdapter } from '../database/database.adapter';
import { rowsOf } from '../database/rows-of';
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

  /**
   * Takes the action on targets for this replica: those of `deviceIds` where it is due and no live claim of
   * another replica holds it (the others are not returned). One statement for any number of devices.
   */
  async claim(
    rolloutId: string,
    deviceIds: readonly string[],
    action: TargetAction,
  ): Promise<RolloutTargetRow[]> {
    if (deviceIds.length === 0) return [];
    const due =
      action === 'start'
        ? and(eq(rolloutTargets.state, 'installing'), isNull(rolloutTargets.jobId))
        : and(eq(rolloutTargets.state, 'rolling-back'), isNull(rolloutTargets.rollbackJobId));
    const rows = await this.database.db
      .update(rolloutTargets)
      .set({ actionClaimedAt: sql`now()`, updatedAt: sql`now()` })
      .where(
        and(
          eq(rolloutTargets.rolloutId, rolloutId),
          inArray(rolloutTargets.deviceId, [...deviceIds]),
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
    const order = new Map(deviceIds.map((deviceId, index) => [deviceId, index]));
    return rows.sort((a, b) => (order.get(a.deviceId) ?? 0) - (order.get(b.deviceId) ?? 0));
  }

  /** Extends this replica's live claims (its heartbeat while issuing); how many are still held. */
  async renewClaims(rolloutId: string, deviceIds: readonly string[]): Promise<number> {
    if (deviceIds.length === 0) return 0;
    const renewed = await this.database.db
      .update(rolloutTargets)
      .set({ actionClaimedAt: sql`now()` })
      .where(
        and(
          eq(rolloutTargets.rolloutId, rolloutId),
          inArray(rolloutTargets.deviceId, [...deviceIds]),
          isNotNull(rolloutTargets.actionClaimedAt),
        ),
      )
      .returning({ deviceId: rolloutTargets.deviceId });
    return renewed.length;
  }

  /** Gives claims back (a transient error): the next step of the rollout issues those actions again. */
  async release(rolloutId: string, deviceIds: readonly string[]): Promise<void> {
    if (deviceIds.length === 0) return;
    await this.database.db
      .update(rolloutTargets)
      .set({ actionClaimedAt: null })
      .where(and(eq(rolloutTargets.rolloutId, rolloutId), inArray(rolloutTargets.deviceId, [...deviceIds])));
  }

  /** Records the model each device runs and its floors before its install is issued (once per target). */
  async recordPreviousAndGates(
    rolloutId: string,
    entries: ReadonlyArray<{ deviceId: string; previous: PreviousModel; gate: TargetGate }>,
  ): Promise<void> {
    if (entries.length === 0) return;
    await this.database.db.execute(sql`
      update ${rolloutTargets} set previous = recorded.previous, gate = recorded.gate, updated_at = now()
      from unnest(${sql.param(entries.map((entry) => entry.deviceId))}::text[],
        ${sql.param(entries.map((entry) => JSON.stringify(entry.previous)))}::jsonb[],
        ${sql.param(entries.map((entry) => JSON.stringify(entry.gate)))}::jsonb[]) as recorded(device_id, previous, gate)
      where ${rolloutTargets.rolloutId} = ${rolloutId} and ${rolloutTargets.deviceId} = recorded.device_id
        and ${rolloutTargets.previous} is null`);
  }

  /** Records the jobs issued for the action on the targets that have none yet. */
  async recordJobs(
    rolloutId: string,
    action: TargetAction,
    issued: ReadonlyArray<{ deviceId: string; job: JobObservation }>,
  ): Promise<void> {
    if (issued.length === 0) return;
    const columns = sql`${sql.param(issued.map(({ deviceId }) => deviceId))}::text[],
      ${sql.param(issued.map(({ job }) => job.jobId))}::text[],
      ${sql.param(issued.map(({ job }) => job.status))}::text[],
      ${sql.param(issued.map(({ job }) => job.versionNumber))}::integer[],
      ${sql.param(issued.map(({ job }) => JSON.stringify(job.statusDetails)))}::jsonb[],
      ${sql.param(issued.map(({ job }) => job.desiredVersion))}::integer[]`;
    const set =
      action === 'start'
        ? sql`job_id = issued.job_id, job_status = issued.status, job_version = issued.version,
            job_details = issued.details, job_desired_version = issued.desired_version`
        : sql`rollback_job_id = issued.job_id, rollback_job_status = issued.status,
            rollback_job_version = issued.version, rollback_job_details = issued.details`;
    const unrecorded =
      action === 'start'
        ? sql`${rolloutTargets.jobId} is null`
        : sql`${rolloutTargets.rollbackJobId} is null`;
    await this.database.db.execute(sql`
      update ${rolloutTargets} set ${set}, job_observed_at = now(), updated_at = now()
      from unnest(${columns}) as issued(device_id, job_id, status, version, details, desired_version)
      where ${rolloutTargets.rolloutId} = ${rolloutId} and ${rolloutTargets.deviceId} = issued.device_id
        and ${unrecorded}`);
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
    const [rolloutIds] = await this.observeMany([job]);
    return rolloutIds ?? [];
  }

  /**
   * `observe` for many job statuses at once, two statements for all (of several statuses of one job, the newest
   * is recorded). Per observation, the rollout ids it concerned.
   */
  async observeMany(jobs: readonly JobObservation[]): Promise<string[][]> {
    const newest = new Map<string, JobObservation>();
    for (const job of jobs) {
      const known = newest.get(job.jobId);
      if (known === undefined || known.versionNumber < job.versionNumber) newest.set(job.jobId, job);
    }
    const observed = [...newest.values()];
    if (observed.length === 0) return [];
    const columns = sql`${sql.param(observed.map((job) => job.jobId))}::text[],
      ${sql.param(observed.map((job) => job.status))}::text[],
      ${sql.param(observed.map((job) => job.versionNumber))}::integer[],
      ${sql.param(observed.map((job) => JSON.stringify(job.statusDetails)))}::jsonb[]`;
    const pendingStatuses = sql.join(
      PENDING_STATUSES.map((status) => sql`${status}`),
      sql`, `,
    );
    const installs = rowsOf<{ rollout_id: string; job_id: string }>(
      await this.database.db.execute(sql`
        update ${rolloutTargets} set job_status = observed.status, job_version = observed.version,
          job_details = observed.details, job_observed_at = now()
        from unnest(${columns}) as observed(job_id, status, version, details)
        where ${rolloutTargets.jobId} = observed.job_id
          and (${rolloutTargets.jobStatus} is null or ${rolloutTargets.jobStatus} in (${pendingStatuses}))
          and (${rolloutTargets.jobVersion} is null or ${rolloutTargets.jobVersion} < observed.version)
        returning ${rolloutTargets.rolloutId} as rollout_id, observed.job_id`),
    );
    const rollbacks = rowsOf<{ rollout_id: string; job_id: string }>(
      await this.database.db.execute(sql`
        update ${rolloutTargets} set rollback_job_status = observed.status, rollback_job_version = observed.version,
          rollback_job_details = observed.details, job_observed_at = now()
        from unnest(${columns}) as observed(job_id, status, version, details)
        where ${rolloutTargets.rollbackJobId} = observed.job_id
          and (${rolloutTargets.rollbackJobStatus} is null
            or ${rolloutTargets.rollbackJobStatus} in (${pendingStatuses}))
          and (${rolloutTargets.rollbackJobVersion} is null or ${rolloutTargets.rollbackJobVersion} < observed.version)
        returning ${rolloutTargets.rolloutId} as rollout_id, observed.job_id`),
    );
    const concerned = new Map<string, Set<string>>();
    for (const row of [...installs, ...rollbacks]) {
      concerned.set(row.job_id, (concerned.get(row.job_id) ?? new Set()).add(row.rollout_id));
    }
    return jobs.map((job) => [...(concerned.get(job.jobId) ?? [])]);
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
