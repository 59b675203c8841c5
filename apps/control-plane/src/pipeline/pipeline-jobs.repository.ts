import { Injectable } from '@nestjs/common';
import { asc, eq, inArray, sql } from 'drizzle-orm';
import { DatabaseAdapter } from '../database/database.adapter';
import { type PipelineJobRow, pipelineJobs } from '../database/schema';

/** The durable mirror of pipeline jobs (`pipeline_jobs`). */
@Injectable()
export class PipelineJobsRepository {
  constructor(private readonly database: DatabaseAdapter) {}

  /** Records a job once; a second call for the same id changes nothing. */
  async insertIfAbsent(job: { id: string; queue: string; versionId: string; input: unknown }): Promise<void> {
    await this.database.db.insert(pipelineJobs).values(job).onConflictDoNothing();
  }

  async find(id: string): Promise<PipelineJobRow | undefined> {
    const rows = await this.database.db.select().from(pipelineJobs).where(eq(pipelineJobs.id, id)).limit(1);
    return rows[0];
  }

  async ofVersion(versionId: string): Promise<PipelineJobRow[]> {
    return this.database.db
      .select()
      .from(pipelineJobs)
      .where(eq(pipelineJobs.versionId, versionId))
      .orderBy(asc(pipelineJobs.createdAt));
  }

  async unfinished(): Promise<PipelineJobRow[]> {
    return this.database.db
      .select()
      .from(pipelineJobs)
      .where(inArray(pipelineJobs.status, ['queued', 'active']));
  }

  async markActive(id: string, attempt: number): Promise<void> {
    await this.database.db
      .update(pipelineJobs)
      .set({ status: 'active', attempts: attempt, failedReason: null, updatedAt: sql`now()` })
      .where(eq(pipelineJobs.id, id));
  }

  async setProgress(id: string, progress: number): Promise<void> {
    await this.database.db
      .update(pipelineJobs)
      .set({ progress, updatedAt: sql`now()` })
      .where(eq(pipelineJobs.id, id));
  }

  async appendLog(id: string, line: string): Promise<void> {
    await this.database.db
      .update(pipelineJobs)
      .set({ logs: sql`${pipelineJobs.logs} || ${JSON.stringify([line])}::jsonb`, updatedAt: sql`now()` })
      .where(eq(pipelineJobs.id, id));
  }

  async markCompleted(id: string, result: unknown): Promise<void> {
    await this.database.db
      .update(pipelineJobs)
      .set({ status: 'completed', progress: 100, result, updatedAt: sql`now()`, finishedAt: sql`now()` })
      .where(eq(pipelineJobs.id, id));
  }

  /** A finished job started again (a failed engine build requested anew): `queued`, its logs kept. */
  async requeue(id: string, line: string): Promise<void> {
    await this.database.db
      .update(pipelineJobs)
      .set({
        status: 'queued',
        progress: 0,
        attempts: 0,
        failedReason: null,
        logs: sql`${pipelineJobs.logs} || ${JSON.stringify([line])}::jsonb`,
        updatedAt: sql`now()`,
        finishedAt: null,
      })
      .where(eq(pipelineJobs.id, id));
  }

  /** `final`: no retry follows; otherwise the job goes back to `queued` for its next attempt. */
  async markFailed(id: string, reason: string, final: boolean): Promise<void> {
    await this.database.db
      .update(pipelineJobs)
      .set({
        status: final ? 'failed' : 'queued',
        failedReason: reason,
        updatedAt: sql`now()`,
        finishedAt: final ? sql`now()` : null,
      })
      .where(eq(pipelineJobs.id, id));
  }
}
