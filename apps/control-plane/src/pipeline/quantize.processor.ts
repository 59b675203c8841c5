import { Processor } from '@nestjs/bullmq';
import { LoggedWorkerHost } from '../queues/logged-worker-host';
import { Inject } from '@nestjs/common';
import { posix } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { parseCfg, tensorRtCalibrationCache } from '@emofleet/darknet';
import { type CalibrationFrame, type NetworkInput } from '@emofleet/detector';
import { parseModelBundleDescription } from '@emofleet/protocol';
import { type Job, UnrecoverableError } from 'bullmq';
import { decode as decodeJpeg } from 'jpeg-js';
import { ARTIFACT_STORE, type ArtifactStore } from '../artifacts/artifact-store';
import { type AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { type ModelFileRole, type ModelVersionFileRow } from '../database/schema';
import { walkArchive } from '../models/eval-set-archive';
import { ModelsRepository } from '../models/models.repository';
import { evalSetAccuracy } from './eval-set-accuracy';
import { PipelineJobsRepository } from './pipeline-jobs.repository';
import { PipelineQueue, type QuantizeJobData } from './pipeline-queues';
import { describeGate, quantizeWithAccuracyGate, type QuantizationGateReport } from './quantization-gate';
import { runTrackedJob } from './tracked-job';

const MAX_PLAN_BYTES = 16 * 1024 * 1024;
const MAX_IMAGE_MEGAPIXELS = 64;
/**
 * The TensorRT release named in the calibration cache header (JetPack 4.6.1+). The scales do not depend on it; an
 * engine build for another release writes its own header line.
 */
export const CALIBRATION_CACHE_TENSORRT_VERSION = '8.2.1';

/**
 * `quantize` (started by `POST /models/:name/versions/:version/quantize`): calibrates an INT8 plan for the cpu
 * detector on the version's calibration set (JPEG images in a zip or tar), measures eval-set accuracy of FP32 and
 * INT8 with the benchmark's rule and compares the drop with the budget in the job data. Within it, the version gets
 * the plan (`int8-plan`) and a TensorRT calibration cache from the same calibration (`tensorrt-calibration-cache`)
 * and is `ready` again; otherwise it is `failed`, the reason and the job log carrying the report.
 */
@Processor(PipelineQueue.Quantize)
export class QuantizeProcessor extends LoggedWorkerHost {
  constructor(
    private readonly jobs: PipelineJobsRepository,
    private readonly models: ModelsRepository,
    @Inject(ARTIFACT_STORE) private readonly store: ArtifactStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    super();
  }

  async process(job: Job<QuantizeJobData>): Promise<unknown> {
    const { versionId } = job.data;
    // Jobs carry the budget of their request; the configured one covers a job queued without it.
    const budgetPoints = job.data.budgetPoints ?? this.config.quantization.maxAccuracyDropPoints;
    try {
      return await runTrackedJob(job, this.jobs, async (reporter) => {
        const files = await this.models.filesOf(versionId);
        const cfgFile = files.find((file) => file.role === 'converted-cfg') ?? requireFile(files, 'cfg');
        const weightsFile =
          files.find((file) => file.role === 'converted-weights') ?? requireFile(files, 'weights');
        const evalSet = requireFile(files, 'eval-set');
        const calibrationSet = requireFile(files, 'calibration-set');
        const calibration = await this.calibrationFrames(calibrationSet, (line) => reporter.log(line));
        if (calibration.length === 0) {
          throw new UnrecoverableError(
            `${calibrationSet.fileName}: no decodable JPEG images to calibrate on`,
          );
        }
        await reporter.log(`calibrating on ${calibration.length} images of ${calibrationSet.fileName}`);
        await reporter.progress(10);
        const cfg = (await this.read(cfgFile)).toString('utf8');
        const input = await this.detectorInput(files);
        const report = await quantizeWithAccuracyGate(
          { cfg, weights: await this.read(weightsFile), threads: 0, ...(input ? { input } : {}) },
          calibration,
          async (detector) => (await evalSetAccuracy(detector, this.store, evalSet)).accuracy,
          budgetPoints,
          (line) => reporter.log(line),
        );
        await reporter.progress(90);
        await reporter.log(`report: ${JSON.stringify(summary(report))}`);
        if (!report.passed) {
          throw new UnrecoverableError(`the INT8 plan breaks the accuracy budget: ${describeGate(report)}`);
        }
        const plan = await this.storeFile(
          versionId,
          'int8-plan',
          'int8-plan.json',
          JSON.stringify(report.plan, null, 2),
        );
        const cache = await this.storeFile(
          versionId,
          'tensorrt-calibration-cache',
          'calibration.cache',
          tensorRtCalibrationCache(
            parseCfg(cfg, cfgFile.fileName),
            report.tensors,
            CALIBRATION_CACHE_TENSORRT_VERSION,
          ),
        );
        await reporter.log(describeGate(report));
        await this.models.setStatus(versionId, 'ready');
        return { ...summary(report), plan, tensorRtCalibrationCache: cache };
      });
    } catch (error) {
      if (error instanceof UnrecoverableError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1)) {
        await this.models.setStatus(versionId, 'failed', `quantize: ${(error as Error).message}`);
      }
      throw error;
    }
  }

  private async storeFile(
    versionId: string,
    role: ModelFileRole,
    fileName: string,
    text: string,
  ): Promise<{ sha256: string; sizeBytes: number }> {
    const stored = await this.store.put(Readable.from([Buffer.from(`${text.trimEnd()}\n`)]), {
      maxBytes: MAX_PLAN_BYTES,
    });
    await this.models.putFile(versionId, {
      role,
      fileName,
      sha256: stored.sha256,
      sizeBytes: stored.sizeBytes,
    });
    return { sha256: stored.sha256, sizeBytes: stored.sizeBytes };
  }

  /** bundle.json's detector input preparation, when the version has one (e.g. face-api's pad-to-square). */
  private async detectorInput(files: ModelVersionFileRow[]): Promise<NetworkInput | undefined> {
    const description = files.find((file) => file.role === 'bundle-description');
    if (!description) return undefined;
    return parseModelBundleDescription((await this.read(description)).toString('utf8')).detector.input;
  }

  private async calibrationFrames(
    file: ModelVersionFileRow,
    log: (line: string) => Promise<void>,
  ): Promise<CalibrationFrame[]> {
    const frames: CalibrationFrame[] = [];
    await walkArchive(
      this.store,
      file.sha256,
      file.sizeBytes,
      async (entry) => {
        const extension = posix.extname(entry.name).toLowerCase();
        if (entry.isDirectory || extension === '.txt') return;
        if (extension !== '.jpg' && extension !== '.jpeg') {
          await log(`skipped ${entry.name}: only JPEG images are decoded here`);
          return;
        }
        try {
          const rgb = decodeJpeg(await entry.read(), {
            useTArray: true,
            formatAsRGBA: false,
            maxResolutionInMP: MAX_IMAGE_MEGAPIXELS,
          });
          frames.push({
            data: rgb.data,
            description: { width: rgb.width, height: rgb.height, format: 'rgb24' },
          });
        } catch (error) {
          await log(`skipped ${entry.name}: not a decodable JPEG (${(error as Error).message})`);
        }
      },
      file.fileName,
    );
    return frames;
  }

  private async read(file: ModelVersionFileRow): Promise<Buffer> {
    return buffer(await this.store.openRead(file.sha256));
  }
}

/** The report without the plan and tensor ranges (those are files). */
function summary(report: QuantizationGateReport): Omit<QuantizationGateReport, 'plan' | 'tensors'> {
  const { plan: _plan, tensors: _tensors, ...rest } = report;
  return rest;
}

function requireFile(files: ModelVersionFileRow[], role: ModelVersionFileRow['role']): ModelVersionFileRow {
  const file = files.find((candidate) => candidate.role === role);
  if (!file) throw new UnrecoverableError(`the version has no ${role} file`);
  return file;
}
