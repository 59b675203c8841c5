import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { buffer } from 'node:stream/consumers';
import {
  BadRequestException,
  Inject,
  Injectable,
  NotFoundException,
  PayloadTooLargeException,
  UnprocessableEntityException,
} from '@nestjs/common';
import { CfgError, inspectNetwork, replace3x3With1x1, TransformError } from '@emofleet/darknet';
import type { Request } from 'express';
import { ARTIFACT_STORE, type ArtifactStore, ArtifactTooLargeError } from '../artifacts/artifact-store';
import { ManifestSigner } from '../artifacts/manifest-signer';
import { type AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { type ModelVersionRow, type TransformSpec } from '../database/schema';
import { PipelineService } from '../pipeline/pipeline.service';
import { packDarknetBundle } from './darknet-bundle';
import { checkEvalSetArchive } from './eval-set-archive';
import {
  type ModelListDto,
  type ModelVersionCreatedDto,
  type ModelVersionDetailDto,
  type ModelVersionListDto,
  modelVersionDetailSchema,
  type VersionFromPathDto,
} from './model.dto';
import { checkBundleUpload, type CheckedBundle } from './bundle-validation';
import {
  fileRoleOf,
  type ReceivedFile,
  type ReceivedFiles,
  sizeLimitFor,
  type ModelUploadField,
} from './model-upload-files';
import { ModelValidationError } from './model-validation-error';
import { ModelsRepository } from './models.repository';
import { receiveMultipartModelUpload } from './multipart-model-upload';
import { parseTransformField } from './transform-field';

interface VersionOptions {
  transforms: TransformSpec[];
  parentVersion: number | undefined;
  uploadedBy: string;
}

@Injectable()
export class ModelsService {
  constructor(
    private readonly repository: ModelsRepository,
    private readonly pipeline: PipelineService,
    private readonly signer: ManifestSigner,
    @Inject(ARTIFACT_STORE) private readonly store: ArtifactStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * A version from a streamed multipart upload (fields cfg, weights, names, evalSet, and for a two-stage bundle
   * classifierCfg, classifierWeights, classifierNames, bundle; text fields transform, parentVersion).
   */
  async createFromUpload(
    modelName: string,
    request: Request,
    uploadedBy: string,
  ): Promise<ModelVersionCreatedDto> {
    const received = await receiveMultipartModelUpload(request, this.store, this.config.uploads, (files) =>
      this.discard(files),
    );
    return this.acceptOrDiscard(
      received.files,
      () => {
        const parent = received.fields.parentVersion?.[0];
        const parentVersion = parent === undefined ? undefined : Number(parent);
        if (parentVersion !== undefined && !(Number.isInteger(parentVersion) && parentVersion >= 1)) {
          throw new ModelValidationError('parentVersion', `"${parent}" is not a version number`);
        }
        return {
          transforms: (received.fields.transform ?? []).map(parseTransformField),
          parentVersion,
          uploadedBy,
        };
      },
      modelName,
    );
  }

  /** A version from files on the control plane's own file system (admins). */
  async createFromPaths(
    modelName: string,
    body: VersionFromPathDto,
    uploadedBy: string,
  ): Promise<ModelVersionCreatedDto> {
    const paths: Array<[ModelUploadField, string | undefined]> = [
      ['cfg', body.cfgPath],
      ['weights', body.weightsPath],
      ['names', body.namesPath],
      ['evalSet', body.evalSetPath],
      ['calibrationSet', body.calibrationSetPath],
      ['classifierCfg', body.classifierCfgPath],
      ['classifierWeights', body.classifierWeightsPath],
      ['classifierNames', body.classifierNamesPath],
      ['bundle', body.bundlePath],
    ];
    const files: ReceivedFiles = {};
    try {
      for (const [field, path] of paths) {
        if (path === undefined) continue;
        const info = await stat(path).catch(() => undefined);
        if (!info?.isFile())
          throw new BadRequestException(`${field}Path: ${path} is not a readable file on the server`);
        const maxBytes = sizeLimitFor(field, this.config.uploads);
        const stored = await this.store.put(createReadStream(path), { maxBytes }).catch((error: unknown) => {
          throw error instanceof ArtifactTooLargeError
            ? new PayloadTooLargeException(`${field} (${path}) is larger than the limit of ${maxBytes} bytes`)
            : error;
        });
        files[field] = { field, fileName: basename(path), ...stored };
      }
    } catch (error) {
      await this.discard(Object.values(files));
      throw error;
    }
    return this.acceptOrDiscard(
      files,
      () => ({ transforms: body.transforms, parentVersion: body.parentVersion, uploadedBy }),
      modelName,
    );
  }

  async list(): Promise<ModelListDto> {
    const rows = await this.repository.listModels();
    return { items: rows.map((row) => ({ ...row, createdAt: row.createdAt.toISOString() })) };
  }

  async versions(modelName: string): Promise<ModelVersionListDto> {
    if (!(await this.repository.modelExists(modelName)))
      throw new NotFoundException(`no model named "${modelName}"`);
    const rows = await this.repository.listVersions(modelName);
    const numbers = new Map(rows.map((row) => [row.id, row.version]));
    return { items: rows.map((row) => this.summary(row, numbers)) };
  }

  async version(modelName: string, version: number): Promise<ModelVersionDetailDto> {
    const row = await this.repository.findVersion(modelName, version);
    if (!row) throw new NotFoundException(`model "${modelName}" has no version ${version}`);
    const parent = row.parentVersionId
      ? await this.repository.findVersionById(row.parentVersionId)
      : undefined;
    const [files, manifests, jobs] = await Promise.all([
      this.repository.filesOf(row.id),
      this.repository.manifestsOf(row.id),
      this.pipeline.jobsOfVersion(row.id),
    ]);
    return modelVersionDetailSchema.parse({
      ...this.summary(row, new Map(parent ? [[parent.id, parent.version]] : [])),
      analysis: row.analysis,
      files: files.map((file) => ({
        role: file.role,
        fileName: file.fileName,
        sha256: file.sha256,
        sizeBytes: file.sizeBytes,
      })),
      manifests: manifests.map((manifest) => ({
        modelId: row.modelName,
        version: String(row.version),
        format: manifest.format,
        sha256: manifest.sha256,
        sizeBytes: manifest.sizeBytes,
        signature: manifest.signature,
      })),
      baseline: row.baseline ?? null,
      jobs: jobs.map((job) => ({ id: job.id, queue: job.queue, status: job.status, progress: job.progress })),
    });
  }

  private async acceptOrDiscard(
    files: ReceivedFiles,
    options: () => VersionOptions,
    modelName: string,
  ): Promise<ModelVersionCreatedDto> {
    let bundle: ReceivedFile | undefined;
    try {
      const { cfg, weights, names, evalSet } = files;
      const missing = (['cfg', 'weights', 'names'] as const).filter((field) => files[field] === undefined);
      if (!cfg || !weights || !names || missing.length > 0) {
        throw new ModelValidationError(
          missing.join(', '),
          'missing: a version needs cfg, weights and names files',
        );
      }
      const { transforms, parentVersion, uploadedBy } = options();
      const checked = await this.validate({ ...files, cfg, weights, names }, evalSet);
      if (files.calibrationSet)
        await this.checkCalibrationSet(files.calibrationSet, checked.reportedLabels.length);
      const { network } = checked;
      for (const transform of transforms) {
        if (transform.kind === 'replace-3x3-with-1x1') replace3x3With1x1(network, transform.paperLayers);
      }
      let parentVersionId: string | null = null;
      if (parentVersion !== undefined) {
        const parent = await this.repository.findVersion(modelName, parentVersion);
        if (!parent)
          throw new ModelValidationError(
            'parentVersion',
            `model "${modelName}" has no version ${parentVersion}`,
          );
        parentVersionId = parent.id;
      }
      const stored = await this.store.put(
        packDarknetBundle(this.store, {
          cfg,
          weights,
          names,
          ...(files.bundle ? { description: files.bundle } : {}),
          ...(checked.classifier ? { classifier: checked.classifier } : {}),
        }),
        { maxBytes: Number.MAX_SAFE_INTEGER },
      );
      bundle = { field: 'weights', fileName: 'model.tar', ...stored };
      const bundleFile = bundle;
      const row = await this.repository.insertVersion({
        id: randomUUID(),
        modelName,
        parentVersionId,
        transforms,
        uploadedBy,
        analysis: inspectNetwork(network),
        classes: checked.reportedLabels.length,
        inputShape: [...network.inputShape],
        files: [
          ...Object.values(files)
            .filter((file): file is ReceivedFile => file !== undefined)
            .map((file) => ({
              role: fileRoleOf(file.field),
              fileName: file.fileName,
              sha256: file.sha256,
              sizeBytes: file.sizeBytes,
            })),
          {
            role: 'darknet-bundle',
            fileName: 'model.tar',
            sha256: bundleFile.sha256,
            sizeBytes: bundleFile.sizeBytes,
          },
        ],
        manifests: [
          {
            format: 'darknet-bundle',
            sha256: bundleFile.sha256,
            sizeBytes: bundleFile.sizeBytes,
            signature: (version) =>
              this.signer.sign({
                modelId: modelName,
                version: String(version),
                format: 'darknet-bundle',
                sha256: bundleFile.sha256,
                sizeBytes: bundleFile.sizeBytes,
              }),
          },
        ],
      });
      const jobId = await this.pipeline.startChain(row.id);
      return { ...this.summary(row, new Map()), parentVersion: parentVersion ?? null, jobId };
    } catch (error) {
      await this.discard([...Object.values(files), ...(bundle ? [bundle] : [])]);
      throw toHttpError(error);
    }
  }

  /**
   * Checks the detector (and classifier) files and bundle.json (bundle-validation.ts), then the eval set, whose
   * class ids index the reported labels.
   */
  private async validate(
    upload: Parameters<typeof checkBundleUpload>[0],
    evalSet: ReceivedFile | undefined,
  ): Promise<CheckedBundle> {
    const checked = await checkBundleUpload(upload, {
      text: async (file) => (await buffer(await this.store.openRead(file.sha256))).toString('utf8'),
      header: async (file) =>
        file.sizeBytes === 0
          ? Buffer.alloc(0)
          : buffer(
              await this.store.openRead(file.sha256, { start: 0, end: Math.min(19, file.sizeBytes - 1) }),
            ),
    });
    if (evalSet) {
      const limits = this.config.uploads;
      await checkEvalSetArchive(
        this.store,
        evalSet.sha256,
        evalSet.sizeBytes,
        checked.reportedLabels.length,
        {
          maxEntries: limits.evalSetMaxEntries,
          maxUncompressedBytes: limits.evalSetMaxUncompressedBytes,
          maxCompressionRatio: limits.evalSetMaxCompressionRatio,
        },
        evalSet.fileName,
      );
    }
    return checked;
  }

  /** A calibration set passes the eval set's archive checks; its images need no labels (any given are checked). */
  private async checkCalibrationSet(file: ReceivedFile, classes: number): Promise<void> {
    const limits = this.config.uploads;
    await checkEvalSetArchive(
      this.store,
      file.sha256,
      file.sizeBytes,
      classes,
      {
        maxEntries: limits.evalSetMaxEntries,
        maxUncompressedBytes: limits.evalSetMaxUncompressedBytes,
        maxCompressionRatio: limits.evalSetMaxCompressionRatio,
      },
      file.fileName,
      { labels: 'optional' },
    );
  }

  /** Removes blobs this request created, unless a version refers to them meanwhile. */
  private async discard(files: ReceivedFile[]): Promise<void> {
    for (const file of files) {
      if (file.created && !(await this.repository.isArtifactReferenced(file.sha256))) {
        await this.store.delete(file.sha256);
      }
    }
  }

  private summary(row: ModelVersionRow, versionNumbers: Map<string, number>) {
    const analysis = row.analysis as { totals: { params: number; flops: number } };
    return {
      id: row.id,
      model: row.modelName,
      version: row.version,
      status: row.status,
      statusReason: row.statusReason,
      parentVersion: row.parentVersionId ? (versionNumbers.get(row.parentVersionId) ?? null) : null,
      transforms: row.transforms,
      uploadedBy: row.uploadedBy,
      classes: row.classes,
      inputShape: row.inputShape,
      totals: analysis.totals,
      createdAt: row.createdAt.toISOString(),
      updatedAt: row.updatedAt.toISOString(),
    };
  }
}

function toHttpError(error: unknown): unknown {
  if (error instanceof CfgError || error instanceof ModelValidationError || error instanceof TransformError) {
    return new UnprocessableEntityException(error.message);
  }
  return error;
}
