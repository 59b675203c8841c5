import { Injectable } from '@nestjs/common';
import { and, asc, count, desc, eq, max, sql } from 'drizzle-orm';
import { DatabaseAdapter } from '../database/database.adapter';
import {
  type ModelVersionStatus,
  type ModelFileRole,
  modelManifests,
  type ModelManifestRow,
  models,
  modelVersionFiles,
  type ModelVersionFileRow,
  modelVersions,
  type ModelVersionRow,
  type TransformSpec,
} from '../database/schema';

export interface NewModelVersion {
  id: string;
  modelName: string;
  parentVersionId: string | null;
  transforms: TransformSpec[];
  uploadedBy: string;
  analysis: unknown;
  classes: number;
  inputShape: [number, number, number];
  files: Array<{ role: ModelFileRole; fileName: string; sha256: string; sizeBytes: number }>;
  manifests: Array<{
    format: string;
    sha256: string;
    sizeBytes: number;
    signature: (version: number) => string;
  }>;
}

@Injectable()
export class ModelsRepository {
  constructor(private readonly database: DatabaseAdapter) {}

  /**
   * Inserts the next version of `modelName` (creating the model on first upload) with its files and signed
   * manifests, in one transaction; the model row is locked so concurrent uploads get distinct numbers.
   */
  async insertVersion(version: NewModelVersion): Promise<ModelVersionRow> {
    return this.database.db.transaction(async (tx) => {
      await tx.insert(models).values({ name: version.modelName }).onConflictDoNothing();
      await tx.execute(sql`select 1 from ${models} where ${models.name} = ${version.modelName} for update`);
      const [latest] = await tx
        .select({ value: max(modelVersions.version) })
        .from(modelVersions)
        .where(eq(modelVersions.modelName, version.modelName));
      const number = (latest?.value ?? 0) + 1;
      const [row] = await tx
        .insert(modelVersions)
        .values({
          id: version.id,
          modelName: version.modelName,
          version: number,
          parentVersionId: version.parentVersionId,
          transforms: version.transforms,
          uploadedBy: version.uploadedBy,
          analysis: version.analysis,
          classes: version.classes,
          inputShape: version.inputShape,
        })
        .returning();
      if (!row) throw new Error('insert returned no model version');
      await tx
        .insert(modelVersionFiles)
        .values(version.files.map((file) => ({ versionId: row.id, ...file })));
      if (version.manifests.length > 0) {
        await tx.insert(modelManifests).values(
          version.manifests.map((manifest) => ({
            versionId: row.id,
            format: manifest.format,
            sha256: manifest.sha256,
            sizeBytes: manifest.sizeBytes,
            signature: manifest.signature(number),
          })),
        );
      }
      return row;
    });
  }

  async listModels(): Promise<
    Array<{ name: string; createdAt: Date; versions: number; latestVersion: number | null }>
  > {
    const rows = await this.database.db
      .select({
        name: models.name,
        createdAt: models.createdAt,
        versions: count(modelVersions.id),
        latestVersion: max(modelVersions.version),
      })
      .from(models)
      .leftJoin(modelVersions, eq(modelVersions.modelName, models.name))
      .groupBy(models.name, models.createdAt)
      .orderBy(asc(models.name));
    return rows.map((row) => ({ ...row, latestVersion: row.latestVersion ?? null }));
  }

  async listVersions(modelName: string): Promise<ModelVersionRow[]> {
    return this.database.db
      .select()
      .from(modelVersions)
      .where(eq(modelVersions.modelName, modelName))
      .orderBy(desc(modelVersions.version));
  }

  async modelExists(modelName: string): Promise<boolean> {
    const rows = await this.database.db
      .select({ name: models.name })
      .from(models)
      .where(eq(models.name, modelName));
    return rows.length > 0;
  }

  async findVersion(modelName: string, version: number): Promise<ModelVersionRow | undefined> {
    const rows = await this.database.db
      .select()
      .from(modelVersions)
      .where(and(eq(modelVersions.modelName, modelName), eq(modelVersions.version, version)))
      .limit(1);
    return rows[0];
  }

  async findVersionById(id: string): Promise<ModelVersionRow | undefined> {
    const rows = await this.database.db.select().from(modelVersions).where(eq(modelVersions.id, id)).limit(1);
    return rows[0];
  }

  async filesOf(versionId: string): Promise<ModelVersionFileRow[]> {
    return this.database.db
      .select()
      .from(modelVersionFiles)
      .where(eq(modelVersionFiles.versionId, versionId))
      .orderBy(asc(modelVersionFiles.createdAt), asc(modelVersionFiles.role));
  }

  async manifestsOf(versionId: string): Promise<ModelManifestRow[]> {
    return this.database.db
      .select()
      .from(modelManifests)
      .where(eq(modelManifests.versionId, versionId))
      .orderBy(asc(modelManifests.format));
  }

  /** Records a derived file (replacing an earlier one of the same role: jobs may run again). */
  async putFile(
    versionId: string,
    file: { role: ModelFileRole; fileName: string; sha256: string; sizeBytes: number },
  ) {
    await this.database.db
      .insert(modelVersionFiles)
      .values({ versionId, ...file })
      .onConflictDoUpdate({
        target: [modelVersionFiles.versionId, modelVersionFiles.role],
        set: { fileName: file.fileName, sha256: file.sha256, sizeBytes: file.sizeBytes },
      });
  }

  async putManifest(
    versionId: string,
    manifest: { format: string; sha256: string; sizeBytes: number; signature: string },
  ) {
    await this.database.db
      .insert(modelManifests)
      .values({ versionId, ...manifest })
      .onConflictDoNothing();
  }

  async setStatus(
    versionId: string,
    status: ModelVersionStatus,
    reason: string | null = null,
  ): Promise<void> {
    await this.database.db
      .update(modelVersions)
      .set({ status, statusReason: reason, updatedAt: sql`now()` })
      .where(eq(modelVersions.id, versionId));
  }

  /** Sets the status only while it is `expected`; whether it did (the step that won a race). */
  async setStatusIf(
    versionId: string,
    expected: ModelVersionStatus,
    status: ModelVersionStatus,
  ): Promise<boolean> {
    const updated = await this.database.db
      .update(modelVersions)
      .set({ status, statusReason: null, updatedAt: sql`now()` })
      .where(and(eq(modelVersions.id, versionId), eq(modelVersions.status, expected)))
      .returning({ id: modelVersions.id });
    return updated.length > 0;
  }

  async setBaseline(versionId: string, baseline: unknown): Promise<void> {
    await this.database.db
      .update(modelVersions)
      .set({ baseline, updatedAt: sql`now()` })
      .where(eq(modelVersions.id, versionId));
  }

  /** Whether any version file or manifest still refers to the blob. */
  async isArtifactReferenced(sha256: string): Promise<boolean> {
    const [files] = await this.database.db
      .select({ value: count() })
      .from(modelVersionFiles)
      .where(eq(modelVersionFiles.sha256, sha256));
    const [manifests] = await this.database.db
      .select({ value: count() })
      .from(modelManifests)
      .where(eq(modelManifests.sha256, sha256));
    return (files?.value ?? 0) + (manifests?.value ?? 0) > 0;
  }
}
