import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { PIPELINE_JOB_STATUSES } from '../database/schema';

export const pipelineJobSchema = z.object({
  id: z.string(),
  queue: z.string(),
  versionId: z.string().nullable(),
  status: z.enum(PIPELINE_JOB_STATUSES),
  /** 0..100 */
  progress: z.number().int(),
  attempts: z.number().int(),
  logs: z.array(z.string()),
  result: z.record(z.string(), z.unknown()).nullable(),
  failedReason: z.string().nullable(),
  createdAt: z.string().datetime(),
  updatedAt: z.string().datetime(),
  finishedAt: z.string().datetime().nullable(),
});

export class PipelineJobDto extends createZodDto(pipelineJobSchema) {}
