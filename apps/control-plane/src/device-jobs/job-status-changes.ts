import { type JobStatusDetails } from '@emofleet/protocol';
import { getTableColumns, sql } from 'drizzle-orm';
import { type DeviceJobExecutionRow, deviceJobExecutions, deviceJobUpdates } from '../database/schema';
import { DeviceJobStatus, isTerminalJobStatus } from './device-job';
import { type Transaction } from '../database/database-connection';

/** A status change of a locked job, written with its history entry. */
export interface JobStatusWrite {
  status: DeviceJobStatus;
  statusDetails: JobStatusDetails;
  /** `device`, or who changed it on the control plane. */
  source: string;
}

interface StagedChange {
  jobId: string;
  change: JobStatusWrite;
  /** The job after this change, as computed in memory. */
  row: DeviceJobExecutionRow;
}

/**
 * The status changes of jobs whose rows a transaction holds locked, decided one after another in memory (a job
 * may change several times: each change applies to the row the one before left) and then written together: one
 * UPDATE for every job's last state and one INSERT for every change's history entry, whatever their number.
 * Each change sets versionNumber + 1, the start time when the device first reports on the job and the finish
 * time when it ends, by the database's clock.
 */
export class JobStatusChanges {
  private readonly locked = new Map<string, DeviceJobExecutionRow>();
  private readonly current = new Map<string, DeviceJobExecutionRow>();
  private readonly staged: StagedChange[] = [];

  /**
   * @param rows the locked jobs as they are stored.
   * @param now the transaction's clock (`now()`), for the rows computed in memory between two changes of one job.
   */
  constructor(
    rows: Iterable<DeviceJobExecutionRow>,
    private readonly now: Date,
  ) {
    for (const row of rows) {
      this.locked.set(row.jobId, row);
      this.current.set(row.jobId, row);
    }
  }

  /** The locked job with the changes staged so far; undefined when it was not locked (no such job). */
  get(jobId: string): DeviceJobExecutionRow | undefined {
    return this.current.get(jobId);
  }

  /** Changes not written yet. */
  get pending(): number {
    return this.staged.length;
  }

  /** Stages a change of a locked job; returns the job after it. */
  stage(jobId: string, change: JobStatusWrite): DeviceJobExecutionRow {
    const before = this.current.get(jobId);
    if (before === undefined) throw new Error(`job ${jobId} is not locked in this transaction`);
    const row = changedRow(before, change, this.now);
    this.current.set(jobId, row);
    this.staged.push({ jobId, change, row });
    return row;
  }

  /**
   * Writes the staged changes in `tx`, the transaction that holds the rows locked. Returns the job after each
   * change, in the order staged: a job's last change as the database stored it, earlier ones as computed.
   */
  async write(tx: Transaction): Promise<DeviceJobExecutionRow[]> {
    const staged = this.staged.splice(0);
    if (staged.length === 0) return [];
    const last = new Map(staged.map((entry) => [entry.jobId, entry.row]));
    const jobs = [...last].map(([jobId, row]) => {
      const locked = this.locked.get(jobId);
      return {
        jobId,
        row,
        started: locked?.startedAt === null && row.startedAt !== null,
        finished: isTerminalJobStatus(row.status as DeviceJobStatus),
      };
    });
    const stored = await tx
      .update(deviceJobExecutions)
      .set({
        status: sql`changed.status`,
        statusDetails: sql`changed.status_details`,
        versionNumber: sql`changed.version_number`,
        startedAt: sql`case when changed.started then now() else ${deviceJobExecutions.startedAt} end`,
        finishedAt: sql`case when changed.finished then now() end`,
        updatedAt: sql`now()`,
      })
      .from(
        sql`unnest(${sql.param(jobs.map((job) => job.jobId))}::text[],
          ${sql.param(jobs.map((job) => job.row.status))}::text[],
          ${sql.param(jobs.map((job) => JSON.stringify(job.row.statusDetails)))}::jsonb[],
          ${sql.param(jobs.map((job) => job.row.versionNumber))}::int[],
          ${sql.param(jobs.map((job) => job.started))}::boolean[],
          ${sql.param(jobs.map((job) => job.finished))}::boolean[])
          as changed(job_id, status, status_details, version_number, started, finished)`,
      )
      .where(sql`${deviceJobExecutions.jobId} = changed.job_id`)
      .returning(getTableColumns(deviceJobExecutions));
    if (stored.length !== jobs.length) {
      const found = new Set(stored.map((row) => row.jobId));
      const lost = jobs.filter((job) => !found.has(job.jobId)).map((job) => job.jobId);
      throw new Error(`jobs ${lost.join(', ')} disappeared while locked`);
    }
    await tx.insert(deviceJobUpdates).values(
      staged.map(({ jobId, change, row }) => ({
        jobId,
        status: change.status,
        step: change.statusDetails.step ?? null,
        details: change.statusDetails,
        versionNumber: row.versionNumber,
        source: change.source,
      })),
    );
    const storedById = new Map(stored.map((row) => [row.jobId, row]));
    for (const row of stored) this.locked.set(row.jobId, row);
    return staged.map((entry) =>
      last.get(entry.jobId) === entry.row ? (storedById.get(entry.jobId) ?? entry.row) : entry.row,
    );
  }
}

function changedRow(row: DeviceJobExecutionRow, change: JobStatusWrite, now: Date): DeviceJobExecutionRow {
  return {
    ...row,
    status: change.status,
    statusDetails: change.statusDetails,
    versionNumber: row.versionNumber + 1,
    // Started: when the device first reported on it (a job cancelled or timed out while queued never started).
    startedAt: row.startedAt ?? (reportedByDevice(change.status) ? now : null),
    finishedAt: isTerminalJobStatus(change.status) ? now : null,
    updatedAt: now,
  };
}

function reportedByDevice(status: DeviceJobStatus): boolean {
  return status !== DeviceJobStatus.TimedOut && status !== DeviceJobStatus.Canceled;
}
