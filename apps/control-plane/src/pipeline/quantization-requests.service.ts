import {
  ConflictException,
  Inject,
  Injectable,
  NotFoundException,
  UnprocessableEntityException,
} from '@nestjs/common';
import { type AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { ModelsRepository } from '../models/models.repository';
import { PipelineJobsRepository } from './pipeline-jobs.repository';
import { PipelineJobName, pipelineJobId } from './pipeline-queues';
import { PipelineService } from './pipeline.service';
import { type QuantizationStartedDto } from './quantization-request.dto';

/**
 * Starts the `quantize` step of a ready version: it needs a calibration set and an eval set, runs once per version,
 * and holds the version in `quantizing` until the job marks it ready (within the budget) or failed (with the report).
 */
@Injectable()
export class QuantizationRequests {
  constructor(
    private readonly models: ModelsRepository,
    private readonly jobs: PipelineJobsRepository,
    private readonly pipeline: PipelineService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async request(
    modelName: string,
    version: number,
    maxAccuracyDropPoints: number | undefined,
  ): Promise<QuantizationStartedDto> {
    const row = await this.models.findVersion(modelName, version);
    if (!row) throw new NotFoundException(`model "${modelName}" has no version ${version}`);
    const roles = new Set((await this.models.filesOf(row.id)).map((file) => file.role));
    const missing = (['calibration-set', 'eval-set'] as const).filter((role) => !roles.has(role));
    if (missing.length > 0) {
      throw new UnprocessableEntityException(
        `model "${modelName}" version ${version} has no ${missing.join(' and no ')} file: upload the version ` +
          'with a calibrationSet (images the INT8 plan is calibrated on) and an evalSet (labelled images it is ' +
          'measured on)',
      );
    }
    const existing = await this.jobs.find(pipelineJobId(PipelineJobName.Quantize, row.id));
    if (existing) {
      throw new ConflictException(
        `model "${modelName}" version ${version} was already quantised (job ${existing.id}, ${existing.status}); ` +
          'upload a new version to quantise again',
      );
    }
    if (!(await this.models.setStatusIf(row.id, 'ready', 'quantizing'))) {
      const current = await this.models.findVersionById(row.id);
      throw new ConflictException(
        `model "${modelName}" version ${version} is ${current?.status ?? row.status}; only a ready version can be quantised`,
      );
    }
    const budgetPoints = maxAccuracyDropPoints ?? this.config.quantization.maxAccuracyDropPoints;
    const jobId = await this.pipeline.enqueue(PipelineJobName.Quantize, row.id, { budgetPoints });
    return { jobId, versionId: row.id, budgetPoints };
  }
}
