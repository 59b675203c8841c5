import { type TransformSpec } from '../database/schema';
import { ModelValidationError } from './model-validation-error';

/**
 * Reads one `transform` field of a multipart upload: `replace-3x3-with-1x1:3,7,11` (paper layer numbers) or
 * `fold-batch-norm`.
 */
export function parseTransformField(value: string): TransformSpec {
  const trimmed = value.trim();
  if (trimmed === 'fold-batch-norm') return { kind: 'fold-batch-norm' };
  const replace = /^replace-3x3-with-1x1:([0-9]+(?:,[0-9]+)*)$/.exec(trimmed);
  if (replace?.[1] !== undefined) {
    return { kind: 'replace-3x3-with-1x1', paperLayers: replace[1].split(',').map(Number) };
  }
  throw new ModelValidationError(
    'transform',
    `"${value}" is not a transform (expected "fold-batch-norm" or "replace-3x3-with-1x1:<paper layer numbers>")`,
  );
}
