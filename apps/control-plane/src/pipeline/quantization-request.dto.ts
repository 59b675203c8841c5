import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';

export const quantizationRequestSchema = z
  .object({
    maxAccuracyDropPoints: z
      .number()
      .min(0)
      .max(100)
      .optional()
      .describe(
        'Eval-set accuracy (percentage points) the INT8 plan may lose against FP32; default ' +
          'QUANTIZE_MAX_ACCURACY_DROP_POINTS (1)',
      ),
  })
  .strict();

export const quantizationStartedSchema = z.object({
  jobId: z
    .string()
    .describe('The quantize job (`GET /jobs/:id`: progress, logs, and the report as its result)'),
  versionId: z.string(),
  budgetPoints: z.number(),
});

export class QuantizationRequestDto extends createZodDto(quantizationRequestSchema) {}
export class QuantizationStartedDto extends createZodDto(quantizationStartedSchema) {}
