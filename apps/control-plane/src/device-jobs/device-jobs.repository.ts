import { Injectable } from '@nestjs/common';
import { type HealthCheckSpec, type JobStatusDetails } from '@emofleet/protocol';
import { and, asc, desc, eq, inArray, lt, lte, sql } from 'drizzle-orm';
import { DatabaseAdapter } from '../database/database.adapter';
import { type Database } from '../database/database-connection';
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
import {
  APPLY_DESIRED_STATE,
  DeviceJobStatus,
  ROLLBACK,
  isTerminalJobStatus,
  PENDING_JOB_STATUSES,
} from './device-job';

export type Transaction = Parameters<Parameters<Database['transaction']>[0]>[0];

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

/** A status change of a locked job, written with its history entry. */
export interface JobStatusWrite {
  status: DeviceJobStatus;
  statusDetails: JobStatusDetails;
  /** `device`, or who changed it on the control plane. */
  source: string;
}

/** Writes `change` to the locked job (version + 1, start and finish times) and returns the new row. */
export type LockedJobWriter = (change: JobStatusWrite) => Promise<DeviceJobExecutionRow>;

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
   * In one transaction, with the device row locked (so desired versions of one device never collide): bumps the
   * device's desiredVersion and stores the desired state, mirrors it in `devices.desired_model`, cancels the
   * device's unfinished apply jobs and queues the new one.
   */
  async assignDesiredState(assignment: DesiredStateAssignment): Promise<DesiredStateAssignmentResult> {
    return this.database.db.transaction(async (tx) => {
      const [device] = await tx
        .select({ id: devices.id, decommissionedAt: devices.decommissionedAt })
        .from(devices)
        .where(eq(devices.id, assignment.deviceId))
        .for('update');
      if (!device) return { ok: false, reason: 'unknown-device' };
      if (device.decommissionedAt) return { ok: false, reason: 'decommissioned' };
      const { desiredVersion, superseded } = await storeDesiredState(tx, assignment);
      const job = await insertJob(tx, {
        jobId: assignment.jobId,
        deviceId: assignment.deviceId,
        operation: APPLY_DESIRED_STATE,
        parameters: { desiredVersion },
        rolloutId: assignment.rolloutId,
        modelVersionId: assignment.modelVersionId,
        desiredVersion,
        createdBy: assignment.issuedBy,
        timeoutMs: assignment.timeoutMs,
      });
      return { ok: true, desiredVersion, job, superseded };
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
    return storeDesiredState(tx, { ...change, healthCheck: null });
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
    return this.database.db.transaction((tx) => insertJob(tx, job));
  }

  /**
   * Locks the job's row for `work`, which decides what to do with it (undefined: no such job; `now`: the
   * database's clock) and may write one status change through `write` (and more through `tx`); everything
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
    return this.database.db.transaction(async (tx) => {
      const clock: unknown = await tx.execute(sql`select now() as now`);
      const now = new Date((clock as { rows: Array<{ now: string | Date }> }).rows[0]?.now ?? Date.now());
      const [row] = await tx
        .select()
        .from(deviceJobExecutions)
        .where(eq(deviceJobExecutions.jobId, jobId))
        .for('update');
      let written = false;
      const write: LockedJobWriter = (change) => {
        if (!row) throw new Error(`job ${jobId} does not exist`);
        if (written) throw new Error(`job ${jobId} was already changed in this transaction`);
        written = true;
        return writeStatus(tx, row, change);
      };
      return work(row, write, now, tx);
    });
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
  async nextPending(deviceId: string): Promise<DeviceJobExecutionRow | undefined> {
    const [row] = await this.database.db
      .select()
      .from(deviceJobExecutions)
      .where(and(eq(deviceJobExecutions.deviceId, deviceId), pending()))
      .orderBy(asc(deviceJobExecutions.seq))
      .limit(1);
    return row;
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

  /** The device's desired state with its model version and darknet bundle manifest; undefined: none set. */
  async desiredStateSource(
    deviceId: string,
    manifestFormat: string,
  ): Promise<DesiredStateSource | undefined> {
    const [desired] = await this.database.db
      .select()
      .from(deviceDesiredStates)
      .where(eq(deviceDesiredStates.deviceId, deviceId));
    if (!desired) return undefined;
    if (desired.modelVersionId === null) return { desired, version: undefined, manifest: undefined };
    const [version, manifest] = await Promise.all([
      this.findModelVersion(desired.modelVersionId),
      this.findManifest(desired.modelVersionId, manifestFormat),
    ]);
    return { desired, version, manifest };
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
async function storeDesiredState(
  tx: Transaction,
  assignment: Pick<
    DesiredStateAssignment,
    'deviceId' | 'modelVersionId' | 'model' | 'healthCheck' | 'rolloutId' | 'issuedBy' | 'supersededReason'
  >,
): Promise<{ desiredVersion: number; superseded: EndedJob[] }> {
  const [previous] = await tx
    .select({ desiredVersion: deviceDesiredStates.desiredVersion })
    .from(deviceDesiredStates)
    .where(eq(deviceDesiredStates.deviceId, assignment.deviceId));
  const desiredVersion = (previous?.desiredVersion ?? 0) + 1;
  const state = {
    desiredVersion,
    modelVersionId: assignment.modelVersionId,
    healthCheck: assignment.healthCheck,
    rolloutId: assignment.rolloutId,
    issuedAt: new Date(),
    issuedBy: assignment.issuedBy,
  };
  await tx
    .insert(deviceDesiredStates)
    .values({ deviceId: assignment.deviceId, ...state })
    .onConflictDoUpdate({ target: deviceDesiredStates.deviceId, set: state });
  await tx
    .update(devices)
    .set({ desiredModel: assignment.model, updatedAt: sql`now()` })
    .where(eq(devices.id, assignment.deviceId));
  const superseded: EndedJob[] = [];
  const unfinished = await tx
    .select()
    .from(deviceJobExecutions)
    .where(
      and(
        eq(deviceJobExecutions.deviceId, assignment.deviceId),
        eq(deviceJobExecutions.operation, APPLY_DESIRED_STATE),
        pending(),
      ),
    )
    .for('update');
  for (const row of unfinished) {
    const ended = await writeStatus(tx, row, {
      status: DeviceJobStatus.Canceled,
      statusDetails: { reason: assignment.supersededReason(desiredVersion) },
      source: assignment.issuedBy,
    });
    superseded.push({ row: ended, previousStatus: row.status as DeviceJobStatus });
  }
  return { desiredVersion, superseded };
}

async function insertJob(tx: Transaction, job: NewDeviceJob): Promise<DeviceJobExecutionRow> {
  const [row] = await tx
    .insert(deviceJobExecutions)
    .values({
      jobId: job.jobId,
      deviceId: job.deviceId,
      operation: job.operation,
      parameters: job.parameters,
      rolloutId: job.rolloutId,
      modelVersionId: job.modelVersionId,
      desiredVersion: job.desiredVersion,
      createdBy: job.createdBy,
      timeoutAt: job.timeoutMs === null ? null : sql`now() + ${job.timeoutMs} * interval '1 millisecond'`,
    })
    .returning();
  if (!row) throw new Error(`inserting job ${job.jobId} returned no row`);
  await tx.insert(deviceJobUpdates).values({
    jobId: row.jobId,
    status: row.status,
    details: {},
    versionNumber: row.versionNumber,
    source: job.createdBy,
  });
  return row;
}

async function writeStatus(
  tx: Transaction,
  row: DeviceJobExecutionRow,
  change: JobStatusWrite,
): Promise<DeviceJobExecutionRow> {
  const terminal = isTerminalJobStatus(change.status);
  const [updated] = await tx
    .update(deviceJobExecutions)
    .set({
      status: change.status,
      statusDetails: change.statusDetails,
      versionNumber: row.versionNumber + 1,
      // Started: when the device first reported on it (a job cancelled or timed out while queued never started).
      startedAt: row.startedAt ?? (reportedByDevice(change.status) ? sql`now()` : null),
      finishedAt: terminal ? sql`now()` : null,
      updatedAt: sql`now()`,
    })
    .where(eq(deviceJobExecutions.jobId, row.jobId))
    .returning();
  if (!updated) throw new Error(`job ${row.jobId} disappeared while locked`);
  await tx.insert(deviceJobUpdates).values({
    jobId: row.jobId,
    status: change.status,
    step: change.statusDetails.step ?? null,
    details: change.statusDetails,
    versionNumber: updated.versionNumber,
    source: change.source,
  });
  return updated;
}

function reportedByDevice(status: DeviceJobStatus): boolean {
  return status !== DeviceJobStatus.TimedOut && status !== DeviceJobStatus.Canceled;
}
