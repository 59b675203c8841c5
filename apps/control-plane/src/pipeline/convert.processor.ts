import { Processor } from '@nestjs/bullmq';
import { LoggedWorkerHost } from '../queues/logged-worker-host';
import { Inject } from '@nestjs/common';
import { buffer } from 'node:stream/consumers';
import { Readable } from 'node:stream';
import { type Job, UnrecoverableError } from 'bullmq';
import { ARTIFACT_STORE, type ArtifactStore } from '../artifacts/artifact-store';
import { type ModelVersionFileRow, type TransformSpec } from '../database/schema';
import { ModelsRepository } from '../models/models.repository';
import { PipelineJobsRepository } from './pipeline-jobs.repository';
import { PipelineJobName, PipelineQueue, type VersionJobData } from './pipeline-queues';
import { PipelineService } from './pipeline.service';
import { type JobReporter, runTrackedJob } from './tracked-job';
import { convertInThread } from './convert-in-thread';
import { type ConversionInput } from './convert-work';
import { type VerifiedFormat } from './verified-exports';

/**
 * `convert`: applies the version's transforms (storing the transformed cfg and weights), exports ONNX and Caffe
 * with libs/darknet, verifies each numerically against the darknet source, and stores the exports as artifacts
 * of the version. The result holds the max abs/rel differences; a difference above the tolerance fails the job.
 * The CPU-bound part runs in a worker thread, so this worker keeps renewing its job locks meanwhile.
 */
@Processor(PipelineQueue.Convert)
export class ConvertProcessor extends LoggedWorkerHost {
  constructor(
    private readonly jobs: PipelineJobsRepository,
    private readonly models: ModelsRepository,
    private readonly pipeline: PipelineService,
    @Inject(ARTIFACT_STORE) private readonly store: ArtifactStore,
  ) {
    super();
  }

  async process(job: Job<VersionJobData>): Promise<unknown> {
    const { versionId } = job.data;
    try {
      return await runTrackedJob(job, this.jobs, async (reporter) => {
        const result = await this.convert(versionId, reporter);
        await this.models.setStatus(versionId, 'benchmarking');
        await this.pipeline.enqueue(PipelineJobName.Benchmark, versionId);
        return result;
      });
    } catch (error) {
      if (error instanceof UnrecoverableError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1)) {
        await this.models.setStatus(versionId, 'failed', `convert: ${(error as Error).message}`);
      }
      throw error;
    }
  }

  private async convert(versionId: string, reporter: JobReporter): Promise<ConvertResult> {
    const version = await this.models.findVersionById(versionId);
    if (!version) throw new UnrecoverableError(`model version ${versionId} no longer exists`);
    await this.models.setStatus(versionId, 'converting');
    const files = await this.models.filesOf(versionId);
    const cfgFile = requireFile(files, 'cfg');
    const weightsFile = requireFile(files, 'weights');
    await reporter.log(
      `loading ${cfgFile.fileName} and ${weightsFile.fileName} (${weightsFile.sizeBytes} bytes)`,
    );
    const input: ConversionInput = {
      cfgText: await this.readText(cfgFile),
      cfgFileName: cfgFile.fileName,
      weights: await buffer(await this.store.openRead(weightsFile.sha256)),
      weightsFileName: weightsFile.fileName,
      transforms: version.transforms,
      stem: `${version.modelName}-v${version.version}`,
    };
    // The parsing, transforms, exports and verification run in a worker thread (convert-in-thread.ts); this
    // thread stores what it produces and reports its steps.
    const exports = await convertInThread(input, async (event) => {
      switch (event.type) {
        case 'log':
          return reporter.log(event.line);
        case 'progress':
          return reporter.progress(event.percent);
        case 'transformed':
          return this.storeTransformed(versionId, event.cfg, event.weights, reporter);
      }
    });
    const stored: Record<string, string> = {};
    for (const file of exports.files) {
      const put = await this.store.put(Readable.from([file.bytes]), { maxBytes: Number.MAX_SAFE_INTEGER });
      await this.models.putFile(versionId, { role: file.role, fileName: file.fileName, ...pick(put) });
      stored[file.role] = put.sha256;
    }
    await reporter.log(`stored ${exports.files.map((file) => file.fileName).join(', ')}`);
    return {
      transforms: version.transforms.map((transform) => transform.kind),
      artifacts: stored,
      verified: exports.verified,
    };
  }

  /** Stores the transformed cfg and, when trained weights survived the transforms, the transformed weights. */
  private async storeTransformed(
    versionId: string,
    cfgText: string,
    weights: Uint8Array | null,
    reporter: JobReporter,
  ): Promise<void> {
    const cfg = await this.store.put(Readable.from([Buffer.from(cfgText, 'utf8')]), {
      maxBytes: Number.MAX_SAFE_INTEGER,
    });
    await this.models.putFile(versionId, { role: 'converted-cfg', fileName: 'converted.cfg', ...pick(cfg) });
    await reporter.log(`stored the transformed cfg as ${cfg.sha256}`);
    if (weights) {
      const stored = await this.store.put(
        Readable.from([Buffer.from(weights.buffer, weights.byteOffset, weights.byteLength)]),
        { maxBytes: Number.MAX_SAFE_INTEGER },
      );
      await this.models.putFile(versionId, {
        role: 'converted-weights',
        fileName: 'converted.weights',
        ...pick(stored),
      });
      await reporter.log(`stored the transformed weights as ${stored.sha256}`);
    }
  }

  private async readText(file: ModelVersionFileRow): Promise<string> {
    return (await buffer(await this.store.openRead(file.sha256))).toString('utf8');
  }
}

export interface ConvertResult {
  transforms: TransformSpec['kind'][];
  /** sha256 per stored export (role → sha256). */
  artifacts: Record<string, string>;
  /** Per format: the max abs/rel difference against the darknet reference pass. */
  verified: VerifiedFormat[];
}

function requireFile(files: ModelVersionFileRow[], role: ModelVersionFileRow['role']): ModelVersionFileRow {
  const file = files.find((candidate) => candidate.role === role);
  if (!file) throw new UnrecoverableError(`the version has no ${role} file`);
  return file;
}

function pick(stored: { sha256: string; sizeBytes: number }): { sha256: string; sizeBytes: number } {
  return { sha256: stored.sha256, sizeBytes: stored.sizeBytes };
}
