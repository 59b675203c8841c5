import { z } from 'zod';
import { type JobDocument } from './jobs';
import { humanTextSchema, modelIdSchema, nonNegativeIntegerSchema } from './common';
import { buildEngineParametersSchema } from './engine-build';
import { formatIssues } from '../issues';

/** Parameters of the job operations defined by this protocol version. */
const operationParameterSchemas = {
  /** Reconcile to the retained desired state with at least this `desiredVersion`, reporting each step. */
  'apply-desired-state': z.object({ desiredVersion: nonNegativeIntegerSchema }),
  /** Switch back to the previous model slot. */
  rollback: z.object({ reason: humanTextSchema.optional() }),
  /** Evaluate a model (the running one when `modelId` is absent) on its eval set and report the accuracy. */
  evaluate: z.object({ modelId: modelIdSchema.optional() }),
  /** Build a TensorRT engine with trtexec, upload it, report its digest and timing (schemas/engine-build.ts). */
  'build-engine': buildEngineParametersSchema,
} as const;

export type JobOperation = keyof typeof operationParameterSchemas;

export type TypedJobDocument = {
  [K in JobOperation]: { operation: K; parameters: z.infer<(typeof operationParameterSchemas)[K]> };
}[JobOperation];

export type JobDocumentParseResult =
  | { ok: true; document: TypedJobDocument }
  | { ok: false; reason: 'unsupported-operation' | 'invalid-parameters'; detail: string };

export const JOB_OPERATIONS = Object.keys(operationParameterSchemas) as JobOperation[];

function isJobOperation(name: string): name is JobOperation {
  return Object.prototype.hasOwnProperty.call(operationParameterSchemas, name);
}

/** Validates a job document's parameters for its operation; the reason is what a device reports as REJECTED. */
export function parseJobDocument(document: JobDocument): JobDocumentParseResult {
  if (!isJobOperation(document.operation)) {
    return {
      ok: false,
      reason: 'unsupported-operation',
      detail: `operation "${document.operation}" is not one of ${JOB_OPERATIONS.join(', ')}`,
    };
  }
  const parsed = operationParameterSchemas[document.operation].safeParse(document.parameters);
  if (!parsed.success) {
    return {
      ok: false,
      reason: 'invalid-parameters',
      detail: formatIssues(parsed.error.issues, 'parameters'),
    };
  }
  return {
    ok: true,
    document: { operation: document.operation, parameters: parsed.data } as TypedJobDocument,
  };
}
