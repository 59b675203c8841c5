import { Processor } from '@nestjs/bullmq';
import { LoggedWorkerHost } from '../queues/logged-worker-host';
import { Inject } from '@nestjs/common';
import { buffer } from 'node:stream/consumers';
import { type Job, UnrecoverableError } from 'bullmq';
import { parseModelBundleDescription, parseNamesFile } from '@emofleet/protocol';
import { ARTIFACT_STORE, type ArtifactStore } from '../artifacts/artifact-store';
import { type ModelVersionFileRow } from '../database/schema';
import { ModelsRepository } from '../models/models.repository';
import { benchmarkDetector, type BenchmarkModel, type BenchmarkSettings } from './detector-benchmark';
import { evalSetAccuracy } from './eval-set-accuracy';
import { PipelineJobsRepository } from './pipeline-jobs.repository';
import { PipelineQueue, type VersionJobData } from './pipeline-queues';
import { runTrackedJob } from './tracked-job';

const BENCHMARK_SETTINGS: BenchmarkSettings = { warmupFrames: 2, measuredFrames: 20, threads: 0 };

/**
 * `benchmark`: runs the native detector (libs/detector, CPU backend) on the version's network for FPS and
 * latency p50/p95 (synthetic camera frames) and, when the version has an eval set, accuracy on it; stores them
 * as the version's baseline and marks the version `ready`. Without an eval set the accuracy is null, and the
 * baseline says why.
 */
@Processor(PipelineQueue.Benchmark)
export class BenchmarkProcessor extends LoggedWorkerHost {
  constructor(
    private readonly jobs: PipelineJobsRepository,
    private readonly models: ModelsRepository,
    @Inject(ARTIFACT_STORE) private readonly store: ArtifactStore,
  ) {
    super();
  }

  async process(job: Job<VersionJobData>): Promise<unknown> {
    const { versionId } = job.data;
    try {
      return await runTrackedJob(job, this.jobs, async (reporter) => {
        const files = await this.models.filesOf(versionId);
        if (files.length === 0) throw new UnrecoverableError(`model version ${versionId} has no files`);
        const cfgFile = files.find((file) => file.role === 'converted-cfg') ?? requireFile(files, 'cfg');
        const weightsFile =
          files.find((file) => file.role === 'converted-weights') ?? requireFile(files, 'weights');
        const namesFile = files.find((file) => file.role === 'names');
        const evalSet = files.find((file) => file.role === 'eval-set');
        const twoStage = await this.twoStage(files);
        await reporter.log(
          `benchmarking ${cfgFile.fileName} + ${weightsFile.fileName} on the native detector (cpu): ` +
            `${BENCHMARK_SETTINGS.warmupFrames} warm-up and ${BENCHMARK_SETTINGS.measuredFrames} measured synthetic frames`,
        );
        await reporter.progress(10);
        const baseline = await benchmarkDetector(
          {
            cfg: (await this.read(cfgFile)).toString('utf8'),
            weights: await this.read(weightsFile),
            ...(namesFile ? { names: parseNamesFile((await this.read(namesFile)).toString('utf8')) } : {}),
            ...twoStage,
          },
          BENCHMARK_SETTINGS,
          async (detector) => {
            if (!evalSet) return null;
            await reporter.progress(60);
            await reporter.log(`measuring accuracy on ${evalSet.fileName}`);
            return evalSetAccuracy(detector, this.store, evalSet);
          },
        );
        await reporter.progress(90);
        await reporter.log(
          `${baseline.fps} FPS, latency p50 ${baseline.latencyMs.p50} ms, p95 ${baseline.latencyMs.p95} ms ` +
            `(${baseline.threads} threads); accuracy ${baseline.accuracyNote}`,
        );
        await this.models.setBaseline(versionId, baseline);
        await this.models.setStatus(versionId, 'ready');
        return baseline;
      });
    } catch (error) {
      if (error instanceof UnrecoverableError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1)) {
        await this.models.setStatus(versionId, 'failed', `benchmark: ${(error as Error).message}`);
      }
      throw error;
    }
  }

  private async read(file: ModelVersionFileRow): Promise<Buffer> {
    return buffer(await this.store.openRead(file.sha256));
  }

  /** bundle.json's detector input and the classifier stage, when the version has them. */
  private async twoStage(
    files: ModelVersionFileRow[],
  ): Promise<Pick<BenchmarkModel, 'input' | 'classifier'>> {
    const descriptionFile = files.find((file) => file.role === 'bundle-description');
    if (!descriptionFile) return {};
    const description = parseModelBundleDescription((await this.read(descriptionFile)).toString('utf8'));
    if (!description.classifier) return { input: description.detector.input };
    return {
      input: description.detector.input,
      classifier: {
        cfg: (await this.read(requireFile(files, 'classifier-cfg'))).toString('utf8'),
        weights: await this.read(requireFile(files, 'classifier-weights')),
        names: parseNamesFile((await this.read(requireFile(files, 'classifier-names'))).toString('utf8')),
        input: description.classifier.input,
      },
    };
  }
}

function requireFile(files: ModelVersionFileRow[], role: ModelVersionFileRow['role']): ModelVersionFileRow {
  const file = files.find((candidate) => candidate.role === role);
  if (!file) throw new UnrecoverableError(`the version has no ${role} file`);
  return file;
}
