import { Injectable } from '@nestjs/common';
import { type HealthCheckSpec } from '@emofleet/protocol';
import { and, asc, desc, eq, inArray, lt, lte, sql } from 'drizzle-orm';
import { DatabaseAdapter } from '../database/database.adapter';
import { type Transaction } from '../database/database-connection';
import { rowsOf } from '../database/rows-of';
import { lockDeviceRowsInOrder } from '../devices/device-row-locks';
import { JobStatusChanges, type JobStatusWrite } from './job-status-changes';
import {
  type DeviceDesiredStateRow,
  type DeviceJobExecutionRow,
  type DeviceJobUpdateRow,
  type DeviceModelRef,
  type DeviceRow,
  deviceDesiredStates,
  deviceJobExecutions,
  deviceJobUpdates,
  devices,
  type ModelManifestRow,
  modelManifests,
  type ModelVersionRow,
  modelVersions,
} from '../database/schema';
import { APPLY_DESIRED_STATE, DeviceJobStatus, ROLLBACK, PENDING_JOB_STATUSES } from './device-job';

export interface NewDeviceJob {
  jobId: string;
  deviceId: string;
  operation: string;
  parameters: Record<string, unknown>;
  rolloutId: string | null;
  modelVersionId: string | null;
  desiredVersion: number | null;
  createdBy: string;
  /** Milliseconds from now (the database's clock) until the job times out; null: never. */
  timeoutMs: number | null;
}

/** Writes `change` to the locked job (version + 1, start and finish times) and returns the new row. */
export type LockedJobWriter = (change: JobStatusWrite) => Promise<DeviceJobExecutionRow>;

export type DeviceState = 'in-service' | 'decommissioned';

/** A superseded job and the status it had. */
export interface EndedJob {
  row: DeviceJobExecutionRow;
  previousStatus: DeviceJobStatus;
}

export interface DesiredStateAssignment {
  deviceId: string;
  modelVersionId: string | null;
  /** The model as `devices.desired_model` shows it (what artifact downloads are authorised by). */
  model: DeviceModelRef | null;
  healthCheck: HealthCheckSpec | null;
  rolloutId: string | null;
  issuedBy: string;
  jobId: string;
  timeoutMs: number | null;
  /** Why older unfinished apply jobs of the device end as CANCELED. */
  supersededReason: (desiredVersion: number) => string;
}

export type DesiredStateAssignmentResult =
  | { ok: false; reason: 'unknown-device' | 'decommissioned' }
  | { ok: true; desiredVersion: number; job: DeviceJobExecutionRow; superseded: EndedJob[] };

/** A device's desired state with the model version it names and that version's darknet bundle manifest. */
export interface DesiredStateSource {
  desired: DeviceDesiredStateRow;
  version: ModelVersionRow | undefined;
  manifest: ModelManifestRow | undefined;
}

const pending = () => inArray(deviceJobExecutions.status, [...PENDING_JOB_STATUSES]);

/** Job executions, their history and the devices' desired states (docs/device-jobs.md). */
@Injectable()
export class DeviceJobsRepository {
  constructor(private readonly database: DatabaseAdapter) {}

  async findDevice(deviceId: string): Promise<DeviceRow | undefined> {
    const [row] = await this.database.db.select().from(devices).where(eq(devices.id, deviceId)).limit(1);
    return row;
  }

  /** `tx`: read inside that transaction (one connection only with the embedded PGlite). */
  async findModelVersion(versionId: string, tx?: Transaction): Promise<ModelVersionRow | undefined> {
    const [row] = await (tx ?? this.database.db)
      .select()
      .from(modelVersions)
      .where(eq(modelVersions.id, versionId))
      .limit(1);
    return row;
  }

  /** The version's manifest of `format` (e.g. `darknet-bundle`), if it has one. */
  async findManifest(versionId: string, format: string): Promise<ModelManifestRow | undefined> {
    const [row] = await this.database.db
      .select()
      .from(modelManifests)
      .where(and(eq(modelManifests.versionId, versionId), eq(modelManifests.format, format)))
      .orderBy(asc(modelManifests.createdAt))
      .limit(1);
    return row;
  }

  /**
   * In one transaction, with the devices' rows locked in id order (so desired versions of one device never collide,
   * and a concurrent telemetry flush, which locks in the same order, never deadlocks with it): per device, bumps
   * its desiredVersion and stores the desired state, mirrors it in `devices.desired_model`, cancels its
   * unfinished apply jobs and queues the new one. A few statements for any number of devices; results in the
   * order of `assignments` (one per device: a device may appear once).
   */
  async assignDesiredStates(
    assignments: readonly DesiredStateAssignment[],
  ): Promise<DesiredStateAssignmentResult[]> {
    const deviceIds = assignments.map((assignment) => assignment.deviceId);
    if (new Set(deviceIds).size !== deviceIds.length) {
      throw new Error('assignDesiredStates: a device appears more than once in one call');
    }
    if (assignments.length === 0) return [];
    return this.database.db.transaction(async (tx) => {
      const found = await lockDeviceRowsInOrder(tx, deviceIds);
      const decommissioned = new Map(found.map((row) => [row.id, row.decommissioned]));
      const live = assignments.filter((assignment) => decommissioned.get(assignment.deviceId) === false);
      const stored = await storeDesiredStates(tx, live);
      const jobs = await insertJobs(
        tx,
        live.map((assignment) => {
          const { desiredVersion } = stored.get(assignment.deviceId) ?? missing(assignment.deviceId);
          return {
            jobId: assignment.jobId,
            deviceId: assignment.deviceId,
            operation: APPLY_DESIRED_STATE,
            parameters: { desiredVersion },
            rolloutId: assignment.rolloutId,
            modelVersionId: assignment.modelVersionId,
            desiredVersion,
            createdBy: assignment.issuedBy,
            timeoutMs: assignment.timeoutMs,
          };
        }),
      );
      const jobById = new Map(jobs.map((row) => [row.jobId, row]));
      return assignments.map((assignment): DesiredStateAssignmentResult => {
        const state = decommissioned.get(assignment.deviceId);
        if (state === undefined) return { ok: false, reason: 'unknown-device' };
        if (state) return { ok: false, reason: 'decommissioned' };
        const { desiredVersion, superseded } =
          stored.get(assignment.deviceId) ?? missing(assignment.deviceId);
        const job = jobById.get(assignment.jobId);
        if (job === undefined) throw new Error(`inserting job ${assignment.jobId} returned no row`);
        return { ok: true, desiredVersion, job, superseded };
      });
    });
  }

  /**
   * The model version a `rollback` job of the device returns to: the one it ran before its current model, as the
   * device's SUCCEEDED model switches tell (apply jobs switch to their model, rollbacks swap back), replayed in
   * the order they finished; null when that history does not name one (the device ran a model the control plane
   * never assigned, or no model).
   */
  async rollbackTarget(deviceId: string): Promise<string | null> {
    const switches = await this.database.db
      .select({
        operation: deviceJobExecutions.operation,
        modelVersionId: deviceJobExecutions.modelVersionId,
      })
      .from(deviceJobExecutions)
      .where(
        and(
          eq(deviceJobExecutions.deviceId, deviceId),
          inArray(deviceJobExecutions.operation, [APPLY_DESIRED_STATE, ROLLBACK]),
          eq(deviceJobExecutions.status, DeviceJobStatus.Succeeded),
        ),
      )
      .orderBy(asc(deviceJobExecutions.finishedAt), asc(deviceJobExecutions.seq));
    // undefined: not known; null: no model.
    let current: string | null | undefined;
    let previous: string | null | undefined;
    for (const job of switches) {
      if (job.operation === ROLLBACK) [current, previous] = [previous, current];
      else if (job.modelVersionId !== current) [current, previous] = [job.modelVersionId, current];
    }
    return previous ?? null;
  }

  /**
   * After a rollback SUCCEEDED (in the transaction that stored it): makes the model version it returned to the
   * device's desired state, unless the desired state changed since the rollback was queued (`queuedAtVersion`:
   * a newer assignment wins). Queues no apply job: the device runs that model already. Undefined when nothing
   * changed.
   */
  async adoptRolledBackModel(
    tx: Transaction,
    change: {
      deviceId: string;
      modelVersionId: string;
      model: DeviceModelRef;
      queuedAtVersion: number | null;
      rolloutId: string | null;
      issuedBy: string;
      supersededReason: (desiredVersion: number) => string;
    },
  ): Promise<{ desiredVersion: number; superseded: EndedJob[] } | undefined> {
    const [device] = await tx
      .select({ id: devices.id, decommissionedAt: devices.decommissionedAt })
      .from(devices)
      .where(eq(devices.id, change.deviceId))
      .for('update');
    if (!device || device.decommissionedAt) return undefined;
    const [desired] = await tx
      .select({ desiredVersion: deviceDesiredStates.desiredVersion })
      .from(deviceDesiredStates)
      .where(eq(deviceDesiredStates.deviceId, change.deviceId));
    if ((desired?.desiredVersion ?? 0) !== (change.queuedAtVersion ?? 0)) return undefined;
    const stored = await storeDesiredStates(tx, [{ ...change, healthCheck: null }]);
    return stored.get(change.deviceId);
  }

  /** The device's desired version now (0 when none was ever set). */
  async currentDesiredVersion(deviceId: string): Promise<number> {
    const [desired] = await this.database.db
      .select({ desiredVersion: deviceDesiredStates.desiredVersion })
      .from(deviceDesiredStates)
      .where(eq(deviceDesiredStates.deviceId, deviceId));
    return desired?.desiredVersion ?? 0;
  }

  /** Queues a job with its first history entry. */
  async insertJob(job: NewDeviceJob): Promise<DeviceJobExecutionRow> {
    const [row] = await this.database.db.transaction((tx) => insertJobs(tx, [job]));
    if (!row) throw new Error(`inserting job ${job.jobId} returned no row`);
    return row;
  }

  /**
   * Locks the job's row for `work`, which decides what to do with it (undefined: no such job; `now`: the
   * database's clock) and may write status changes through `write` (and more through `tx`); everything
   * commits together.
   */
  async withLockedJob<T>(
    jobId: string,
    work: (
      job: DeviceJobExecutionRow | undefined,
      write: LockedJobWriter,
      now: Date,
      tx: Transaction,
    ) => Promise<T>,
  ): Promise<T> {
    return this.withLockedJobs({ jobIds: [jobId], deviceIds: [] }, (jobs, now, tx) => {
      const write: LockedJobWriter = async (change) => {
        jobs.stage(jobId, change);
        const [written] = await jobs.write(tx);
        if (!written) throw new Error(`writing job ${jobId} returned no row`);
        return written;
      };
      return work(jobs.get(jobId), write, now, tx);
    });
  }

  /**
   * In one transaction: locks the rows of `deviceIds`, then those of `jobIds`, each in id order (every transaction
   * that locks both takes devices first, so none waits for a device while holding a job), and runs `work`, which
   * stages status changes of the locked jobs and writes them (`JobStatusChanges.write`); `now` is the database's
   * clock. Staged changes left unwritten are an error: the transaction rolls back.
   */
  async withLockedJobs<T>(
    lock: { jobIds: readonly string[]; deviceIds: readonly string[] },
    work: (jobs: JobStatusChanges, now: Date, tx: Transaction) => Promise<T>,
  ): Promise<T> {
    return this.database.db.transaction(async (tx) => {
      await lockDeviceRowsInOrder(tx, lock.deviceIds);
      const locked = await tx
        .select({ job: deviceJobExecutions, now: sql<string | Date>`now()` })
        .from(deviceJobExecutions)
        .where(inArray(deviceJobExecutions.jobId, [...new Set(lock.jobIds)]))
        .orderBy(asc(deviceJobExecutions.jobId))
        .for('update');
      const clock = locked[0]?.now ?? (await databaseClock(tx));
      const now = new Date(clock);
      const jobs = new JobStatusChanges(
        locked.map((entry) => entry.job),
        now,
      );
      const result = await work(jobs, now, tx);
      if (jobs.pending > 0) throw new Error(`${jobs.pending} job status changes were staged but not written`);
      return result;
    });
  }

  async findJobs(jobIds: readonly string[]): Promise<DeviceJobExecutionRow[]> {
    if (jobIds.length === 0) return [];
    return this.database.db
      .select()
      .from(deviceJobExecutions)
      .where(inArray(deviceJobExecutions.jobId, [...jobIds]));
  }

  async findJob(jobId: string): Promise<DeviceJobExecutionRow | undefined> {
    const [row] = await this.database.db
      .select()
      .from(deviceJobExecutions)
      .where(eq(deviceJobExecutions.jobId, jobId))
      .limit(1);
    return row;
  }

  /** The job's history, oldest first. */
  async historyOf(jobId: string): Promise<DeviceJobUpdateRow[]> {
    return this.database.db
      .select()
      .from(deviceJobUpdates)
      .where(eq(deviceJobUpdates.jobId, jobId))
      .orderBy(asc(deviceJobUpdates.id));
  }

  /** The device's jobs, newest first, older than the job with sequence `beforeSeq` when given. */
  async listForDevice(
    deviceId: string,
    page: { limit: number; beforeSeq?: number },
  ): Promise<DeviceJobExecutionRow[]> {
    return this.database.db
      .select()
      .from(deviceJobExecutions)
      .where(
        and(
          eq(deviceJobExecutions.deviceId, deviceId),
          page.beforeSeq === undefined ? undefined : lt(deviceJobExecutions.seq, page.beforeSeq),
        ),
      )
      .orderBy(desc(deviceJobExecutions.seq))
      .limit(page.limit);
  }

  /** The device's oldest unfinished job: what `jobs/notify-next` shows. */
  /** Per device, its oldest unfinished job (devices without one are absent). One statement for all. */
  async nextPendingOf(deviceIds: readonly string[]): Promise<Map<string, DeviceJobExecutionRow>> {
    if (deviceIds.length === 0) return new Map();
    const rows = await this.database.db
      .selectDistinctOn([deviceJobExecutions.deviceId])
      .from(deviceJobExecutions)
      .where(and(inArray(deviceJobExecutions.deviceId, [...deviceIds]), pending()))
      .orderBy(asc(deviceJobExecutions.deviceId), asc(deviceJobExecutions.seq));
    return new Map(rows.map((row) => [row.deviceId, row]));
  }

  /** Whether each of the known devices among `deviceIds` is in service (unknown ones are absent). */
  async deviceStates(deviceIds: readonly string[]): Promise<Map<string, DeviceState>> {
    if (deviceIds.length === 0) return new Map();
    const rows = await this.database.db
      .select({ id: devices.id, decommissionedAt: devices.decommissionedAt })
      .from(devices)
      .where(inArray(devices.id, [...new Set(deviceIds)]));
    return new Map(
      rows.map((row) => [row.id, row.decommissionedAt === null ? 'in-service' : 'decommissioned']),
    );
  }

  /**
   * Per device, its newest SUCCEEDED install of the given model version that measured FPS in its health check
   * (devices without one are absent). One statement for all.
   */
  async lastMeasuredInstalls(
    installs: ReadonlyArray<{ deviceId: string; modelVersionId: string }>,
  ): Promise<Map<string, { jobId: string; measuredFps: number }>> {
    if (installs.length === 0) return new Map();
    const rows = rowsOf<{ device_id: string; job_id: string; measured_fps: number }>(
      await this.database.db.execute(sql`
        select distinct on (j.device_id) j.device_id, j.job_id, (j.status_details->>'measuredFps')::float8 as measured_fps
        from ${deviceJobExecutions} j
          join unnest(${sql.param(installs.map((install) => install.deviceId))}::text[],
            ${sql.param(installs.map((install) => install.modelVersionId))}::text[]) as wanted(device_id, model_version_id)
            on j.device_id = wanted.device_id and j.model_version_id = wanted.model_version_id
        where j.operation = ${APPLY_DESIRED_STATE} and j.status = ${DeviceJobStatus.Succeeded}
          and jsonb_typeof(j.status_details->'measuredFps') = 'number'
        order by j.device_id, j.seq desc`),
    );
    return new Map(
      rows.map((row) => [row.device_id, { jobId: row.job_id, measuredFps: Number(row.measured_fps) }]),
    );
  }

  /** Unfinished jobs whose time-out has passed by the database's clock, oldest deadline first. */
  async overdueJobIds(limit: number): Promise<string[]> {
    const rows = await this.database.db
      .select({ jobId: deviceJobExecutions.jobId })
      .from(deviceJobExecutions)
      .where(and(pending(), lte(deviceJobExecutions.timeoutAt, sql`now()`)))
      .orderBy(asc(deviceJobExecutions.timeoutAt))
      .limit(limit);
    return rows.map((row) => row.jobId);
  }

  /**
   * Per device, its desired state with the model version it names and that version's manifest of
   * `manifestFormat` (devices without a desired state are absent). The versions are read once each.
   */
  async desiredStateSources(
    deviceIds: readonly string[],
    manifestFormat: string,
  ): Promise<Map<string, DesiredStateSource>> {
    if (deviceIds.length === 0) return new Map();
    const states = await this.database.db
      .select()
      .from(deviceDesiredStates)
      .where(inArray(deviceDesiredStates.deviceId, [...deviceIds]));
    const versionIds = [
      ...new Set(states.map((state) => state.modelVersionId).filter((id): id is string => id !== null)),
    ];
    const found = await Promise.all(
      versionIds.map(async (versionId) => {
        const [version, manifest] = await Promise.all([
          this.findModelVersion(versionId),
          this.findManifest(versionId, manifestFormat),
        ]);
        return [versionId, { version, manifest }] as const;
      }),
    );
    const versions = new Map(found);
    return new Map(
      states.map((desired) => {
        const named = desired.modelVersionId === null ? undefined : versions.get(desired.modelVersionId);
        return [desired.deviceId, { desired, version: named?.version, manifest: named?.manifest }];
      }),
    );
  }

  /** Devices in service with a desired state or any job: those whose retained topics the control plane owns. */
  async devicesWithJobsOrDesiredState(afterDeviceId: string | null, limit: number): Promise<string[]> {
    const result: unknown = await this.database.db.execute(sql`
      select d.id from ${devices} d
      where d.decommissioned_at is null
        and ${afterDeviceId === null ? sql`true` : sql`d.id > ${afterDeviceId}`}
        and (exists (select 1 from ${deviceDesiredStates} s where s.device_id = d.id)
          or exists (select 1 from ${deviceJobExecutions} j where j.device_id = d.id))
      order by d.id
      limit ${limit}`);
    // node-postgres and PGlite both answer raw queries with `{ rows }`.
    return (result as { rows: Array<{ id: string }> }).rows.map((row) => row.id);
  }
}

/**
 * Bumps the device's desiredVersion (its row must be locked), stores the desired state, mirrors it in
 * `devices.desired_model` and cancels the device's unfinished apply jobs.
 */
type StoredDesiredState = Pick<
  DesiredStateAssignment,
  'deviceId' | 'modelVersionId' | 'model' | 'healthCheck' | 'rolloutId' | 'issuedBy' | 'supersededReason'
>;

/**
 * Stores the desired states of devices whose rows the transaction holds locked (one per device), mirrors them
 * in `devices.desired_model` and cancels their unfinished apply jobs; per device, its new desiredVersion and the
 * jobs it superseded.
 */
async function storeDesiredStates(
  tx: Transaction,
  assignments: readonly StoredDesiredState[],
): Promise<Map<string, { desiredVersion: number; superseded: EndedJob[] }>> {
  const stored = new Map<string, { desiredVersion: number; superseded: EndedJob[] }>();
  if (assignments.length === 0) return stored;
  const deviceIds = assignments.map((assignment) => assignment.deviceId);
  const previous = await tx
    .select({ deviceId: deviceDesiredStates.deviceId, desiredVersion: deviceDesiredStates.desiredVersion })
    .from(deviceDesiredStates)
    .where(inArray(deviceDesiredStates.deviceId, deviceIds));
  const previousVersion = new Map(previous.map((row) => [row.deviceId, row.desiredVersion]));
  const issuedAt = new Date();
  const states = assignments.map((assignment) => {
    const desiredVersion = (previousVersion.get(assignment.deviceId) ?? 0) + 1;
    stored.set(assignment.deviceId, { desiredVersion, superseded: [] });
    return {
      deviceId: assignment.deviceId,
      desiredVersion,
      modelVersionId: assignment.modelVersionId,
      healthCheck: assignment.healthCheck,
      rolloutId: assignment.rolloutId,
      issuedAt,
      issuedBy: assignment.issuedBy,
    };
  });
  await tx
    .insert(deviceDesiredStates)
    .values(states)
    .onConflictDoUpdate({
      target: deviceDesiredStates.deviceId,
      set: {
        desiredVersion: sql`excluded.desired_version`,
        modelVersionId: sql`excluded.model_version_id`,
        healthCheck: sql`excluded.health_check`,
        rolloutId: sql`excluded.rollout_id`,
        issuedAt: sql`excluded.issued_at`,
        issuedBy: sql`excluded.issued_by`,
      },
    });
  await tx.execute(sql`
    update ${devices} set desired_model = assigned.model, updated_at = now()
    from unnest(${sql.param(deviceIds)}::text[],
      ${sql.param(assignments.map(({ model }) => (model === null ? null : JSON.stringify(model))))}::jsonb[])
      as assigned(device_id, model)
    where ${devices.id} = assigned.device_id`);
  // Locked in job id order, as job update batches lock theirs; cancelled oldest first.
  const locked = await tx
    .select()
    .from(deviceJobExecutions)
    .where(
      and(
        inArray(deviceJobExecutions.deviceId, deviceIds),
        eq(deviceJobExecutions.operation, APPLY_DESIRED_STATE),
        pending(),
      ),
    )
    .orderBy(asc(deviceJobExecutions.jobId))
    .for('update');
  const unfinished = locked.sort((a, b) => a.seq - b.seq);
  const byDevice = new Map(assignments.map((assignment) => [assignment.deviceId, assignment]));
  const cancels = new JobStatusChanges(unfinished, issuedAt);
  const ended = unfinished.flatMap((row) => {
    const assignment = byDevice.get(row.deviceId);
    const result = stored.get(row.deviceId);
    if (assignment === undefined || result === undefined) return [];
    cancels.stage(row.jobId, {
      status: DeviceJobStatus.Canceled,
      statusDetails: { reason: assignment.supersededReason(result.desiredVersion) },
      source: assignment.issuedBy,
    });
    return [{ previousStatus: row.status as DeviceJobStatus, result }];
  });
  const written = await cancels.write(tx);
  ended.forEach(({ previousStatus, result }, index) => {
    const row = written[index];
    if (row !== undefined) result.superseded.push({ row, previousStatus });
  });
  return stored;
}

/** Queues jobs, each with its first history entry; the rows in no particular order. */
async function insertJobs(tx: Transaction, jobs: readonly NewDeviceJob[]): Promise<DeviceJobExecutionRow[]> {
  if (jobs.length === 0) return [];
  const rows = await tx
    .insert(deviceJobExecutions)
    .values(
      jobs.map((job) => ({
        jobId: job.jobId,
        deviceId: job.deviceId,
        operation: job.operation,
        parameters: job.parameters,
        rolloutId: job.rolloutId,
        modelVersionId: job.modelVersionId,
        desiredVersion: job.desiredVersion,
        createdBy: job.createdBy,
        timeoutAt: job.timeoutMs === null ? null : sql`now() + ${job.timeoutMs} * interval '1 millisecond'`,
      })),
    )
    .returning();
  await tx.insert(deviceJobUpdates).values(
    rows.map((row) => ({
      jobId: row.jobId,
      status: row.status,
      details: {},
      versionNumber: row.versionNumber,
      source: row.createdBy,
    })),
  );
  return rows;
}

function missing(deviceId: string): never {
  throw new Error(`no desired state was stored for ${deviceId}`);
}

/** The transaction's clock (`now()`: the same for all its statements). */
async function databaseClock(tx: Transaction): Promise<string | Date> {
  const [row] = rowsOf<{ now: string | Date }>(await tx.execute(sql`select now() as now`));
  return row?.now ?? new Date();
}
