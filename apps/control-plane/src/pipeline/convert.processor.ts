import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject } from '@nestjs/common';
import { buffer } from 'node:stream/consumers';
import { Readable } from 'node:stream';
import {
  foldBatchNorm,
  type Network,
  type NetworkWeights,
  parseCfg,
  readWeights,
  replace3x3With1x1,
  RETRAIN_NOTICE,
  serialiseCfg,
  serialiseWeights,
} from '@emofleet/darknet';
import { type Job, UnrecoverableError } from 'bullmq';
import { ARTIFACT_STORE, type ArtifactStore } from '../artifacts/artifact-store';
import { type ModelVersionFileRow, type TransformSpec } from '../database/schema';
import { ModelsRepository } from '../models/models.repository';
import { PipelineJobsRepository } from './pipeline-jobs.repository';
import { PipelineJobName, PipelineQueue, type VersionJobData } from './pipeline-queues';
import { PipelineService } from './pipeline.service';
import { type JobReporter, runTrackedJob } from './tracked-job';
import { exportAndVerify, type VerifiedFormat } from './verified-exports';

/**
 * `convert`: applies the version's transforms (storing the transformed cfg and weights), exports ONNX and Caffe
 * with libs/darknet, verifies each numerically against the darknet source, and stores the exports as artifacts
 * of the version. The result holds the max abs/rel differences; a difference above the tolerance fails the job.
 */
@Processor(PipelineQueue.Convert)
export class ConvertProcessor extends WorkerHost {
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
    let network: Network = parseCfg(await this.readText(cfgFile), cfgFile.fileName);
    let weights: NetworkWeights | null = readWeights(
      network,
      await buffer(await this.store.openRead(weightsFile.sha256)),
      weightsFile.fileName,
    );
    await reporter.progress(20);

    for (const transform of version.transforms) {
      switch (transform.kind) {
        case 'fold-batch-norm': {
          if (!weights)
            throw new UnrecoverableError(
              'fold-batch-norm needs weights, but an earlier transform dropped them',
            );
          ({ network, weights } = foldBatchNorm(network, weights));
          await reporter.log('folded batch norm into convolution biases (darknet epsilon: sqrt(var) + 1e-6)');
          break;
        }
        case 'replace-3x3-with-1x1': {
          const replaced = replace3x3With1x1(network, transform.paperLayers);
          network = replaced.network;
          weights = null;
          await reporter.log(
            `replaced 3x3 with 1x1 at paper layers ${transform.paperLayers.join(',')}: params -` +
              `${(replaced.reduction.params * 100).toFixed(2)} %, FLOPs -${(replaced.reduction.flops * 100).toFixed(2)} %. ` +
              RETRAIN_NOTICE,
          );
          break;
        }
      }
    }
    await reporter.progress(40);
    if (version.transforms.length > 0) {
      const cfg = await this.store.put(Readable.from([Buffer.from(serialiseCfg(network), 'utf8')]), {
        maxBytes: Number.MAX_SAFE_INTEGER,
      });
      await this.models.putFile(versionId, {
        role: 'converted-cfg',
        fileName: 'converted.cfg',
        ...pick(cfg),
      });
      await reporter.log(`stored the transformed cfg as ${cfg.sha256}`);
      if (weights) {
        const bytes = serialiseWeights(network, weights);
        const stored = await this.store.put(
          Readable.from([Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)]),
          {
            maxBytes: Number.MAX_SAFE_INTEGER,
          },
        );
        await this.models.putFile(versionId, {
          role: 'converted-weights',
          fileName: 'converted.weights',
          ...pick(stored),
        });
        await reporter.log(`stored the transformed weights as ${stored.sha256}`);
      }
    }
    await reporter.progress(45);
    if (!weights) {
      throw new UnrecoverableError(
        `nothing to export: replace-3x3-with-1x1 leaves the network without trained weights. ${RETRAIN_NOTICE}`,
      );
    }
    const stem = `${version.modelName}-v${version.version}`;
    const exports = await exportAndVerify(network, weights, stem, {
      log: (line) => reporter.log(line),
      advance: (fraction) => reporter.progress(45 + fraction * 50),
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
