import { Injectable } from '@nestjs/common';
import { and, asc, eq, inArray, isNotNull, isNull, ne, sql } from 'drizzle-orm';
import { DatabaseAdapter } from '../database/database.adapter';
import { devices, modelManifests, modelVersionFiles } from '../database/schema';
import { type EngineBuildRow, engineBuilds, type NewEngineBuild } from '../database/schema/engine-builds';
import { type BuilderCandidate } from './device-class';

/** What a successful build stores. */
export interface BuildResult {
  engineSha256: string;
  engineSizeBytes: number;
  timing: EngineBuildRow['timing'];
  tensorrtVersion: string | null;
  buildMs: number;
  buildLog: string | null;
}

/** `engine_builds`: one row per engine cache key, the durable state of its build. */
@Injectable()
export class EngineBuildsRepository {
  constructor(private readonly database: DatabaseAdapter) {}

  /** Inserts the build unless its key exists; returns the stored row either way. */
  async insertIfAbsent(build: NewEngineBuild): Promise<EngineBuildRow> {
    await this.database.db.insert(engineBuilds).values(build).onConflictDoNothing();
    const row = await this.find(build.cacheKey);
    if (!row) throw new Error(`engine build ${build.cacheKey} vanished right after its insert`);
    return row;
  }

  async find(cacheKey: string): Promise<EngineBuildRow | undefined> {
    const rows = await this.database.db
      .select()
      .from(engineBuilds)
      .where(eq(engineBuilds.cacheKey, cacheKey))
      .limit(1);
    return rows[0];
  }

  /** Every build from this ONNX file (all classes), oldest first. */
  async ofInput(inputSha256: string): Promise<EngineBuildRow[]> {
    return this.database.db
      .select()
      .from(engineBuilds)
      .where(eq(engineBuilds.inputSha256, inputSha256))
      .orderBy(asc(engineBuilds.createdAt), asc(engineBuilds.cacheKey));
  }

  /** Builds the database says are not finished (to put back into the queue at start). */
  async unfinished(): Promise<EngineBuildRow[]> {
    return this.database.db
      .select()
      .from(engineBuilds)
      .where(inArray(engineBuilds.status, ['queued', 'building']));
  }

  /** A failed build asked for again: back to `queued`, the last failure kept until the next attempt ends. */
  async requeueFailed(cacheKey: string, requestedBy: string): Promise<boolean> {
    const rows = await this.database.db
      .update(engineBuilds)
      .set({ status: 'queued', deviceJobId: null, requestedBy, finishedAt: null, updatedAt: sql`now()` })
      .where(and(eq(engineBuilds.cacheKey, cacheKey), eq(engineBuilds.status, 'failed')))
      .returning({ cacheKey: engineBuilds.cacheKey });
    return rows.length > 0;
  }

  /**
   * Claims the build for a new attempt on `deviceId`: `building`, no engine yet. Only when no device job is out
   * (so two passes cannot both send one); false when another pass claimed it first.
   */
  async assignBuilder(cacheKey: string, deviceId: string): Promise<boolean> {
    const rows = await this.database.db
      .update(engineBuilds)
      .set({
        status: 'building',
        builderDeviceId: deviceId,
        engineSha256: null,
        engineSizeBytes: null,
        updatedAt: sql`now()`,
      })
      .where(
        and(
          eq(engineBuilds.cacheKey, cacheKey),
          isNull(engineBuilds.deviceJobId),
          inArray(engineBuilds.status, ['queued', 'building']),
        ),
      )
      .returning({ cacheKey: engineBuilds.cacheKey });
    return rows.length > 0;
  }

  async setDeviceJob(cacheKey: string, deviceJobId: string): Promise<void> {
    await this.database.db
      .update(engineBuilds)
      .set({ deviceJobId, updatedAt: sql`now()` })
      .where(eq(engineBuilds.cacheKey, cacheKey));
  }

  /** Records the engine a builder uploaded, only while `deviceJobId` is the build's current job. */
  async recordUpload(
    cacheKey: string,
    deviceJobId: string,
    engine: { sha256: string; sizeBytes: number },
  ): Promise<boolean> {
    const rows = await this.database.db
      .update(engineBuilds)
      .set({ engineSha256: engine.sha256, engineSizeBytes: engine.sizeBytes, updatedAt: sql`now()` })
      .where(
        and(
          eq(engineBuilds.cacheKey, cacheKey),
          eq(engineBuilds.deviceJobId, deviceJobId),
          eq(engineBuilds.status, 'building'),
        ),
      )
      .returning({ cacheKey: engineBuilds.cacheKey });
    return rows.length > 0;
  }

  async markSucceeded(cacheKey: string, result: BuildResult): Promise<void> {
    await this.database.db
      .update(engineBuilds)
      .set({
        ...result,
        status: 'succeeded',
        deviceJobId: null,
        failedReason: null,
        updatedAt: sql`now()`,
        finishedAt: sql`now()`,
      })
      .where(eq(engineBuilds.cacheKey, cacheKey));
  }

  /**
   * Ends an attempt that failed: the device job is released (the next attempt sends a new one) and the reason
   * and builder log are kept; `final`: no attempt follows, the build is `failed`.
   */
  async recordFailure(
    cacheKey: string,
    failure: { reason: string; buildLog: string | null; final: boolean },
  ): Promise<void> {
    await this.database.db
      .update(engineBuilds)
      .set({
        status: failure.final ? 'failed' : 'queued',
        deviceJobId: null,
        failedReason: failure.reason,
        ...(failure.buildLog === null ? {} : { buildLog: failure.buildLog }),
        updatedAt: sql`now()`,
        finishedAt: failure.final ? sql`now()` : null,
      })
      .where(eq(engineBuilds.cacheKey, cacheKey));
  }

  /**
   * Takes the engine an unfinished attempt uploaded off the build (the attempt failed, or a new one starts):
   * returns its sha256, or undefined when the build has none or is `succeeded`.
   */
  async releaseUpload(cacheKey: string): Promise<string | undefined> {
    return this.database.db.transaction(async (tx) => {
      const [row] = await tx
        .select({ engineSha256: engineBuilds.engineSha256 })
        .from(engineBuilds)
        .where(
          and(
            eq(engineBuilds.cacheKey, cacheKey),
            ne(engineBuilds.status, 'succeeded'),
            isNotNull(engineBuilds.engineSha256),
          ),
        )
        .for('update');
      if (!row?.engineSha256) return undefined;
      await tx
        .update(engineBuilds)
        .set({ engineSha256: null, engineSizeBytes: null, updatedAt: sql`now()` })
        .where(eq(engineBuilds.cacheKey, cacheKey));
      return row.engineSha256;
    });
  }

  /** Whether any row refers to the artifact: an engine build's engine, or a model version's file or manifest. */
  async artifactReferenced(sha256: string): Promise<boolean> {
    const [engine] = await this.database.db
      .select({ key: engineBuilds.cacheKey })
      .from(engineBuilds)
      .where(eq(engineBuilds.engineSha256, sha256))
      .limit(1);
    if (engine) return true;
    const [file] = await this.database.db
      .select({ sha256: modelVersionFiles.sha256 })
      .from(modelVersionFiles)
      .where(eq(modelVersionFiles.sha256, sha256))
      .limit(1);
    if (file) return true;
    const [manifest] = await this.database.db
      .select({ sha256: modelManifests.sha256 })
      .from(modelManifests)
      .where(eq(modelManifests.sha256, sha256))
      .limit(1);
    return manifest !== undefined;
  }

  /** Online, in-service devices that announce an engine builder for this GPU arch. */
  async builderCandidates(gpuArch: string, online: boolean): Promise<BuilderCandidate[]> {
    return this.database.db
      .select({ id: devices.id, capabilities: devices.capabilities })
      .from(devices)
      .where(
        and(
          eq(devices.online, online),
          isNull(devices.decommissionedAt),
          sql`${devices.capabilities}->>'engineBuilder' = 'true'`,
          sql`${devices.capabilities}->>'gpuArch' = ${gpuArch}`,
        ),
      );
  }
}
