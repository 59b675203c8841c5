import type { Tone } from '../../components/StatusBadge';
import type { ModelVersionSummary } from '../../api/types';

export function versionTone(status: ModelVersionSummary['status']): Tone {
  switch (status) {
    case 'ready':
      return 'good';
    case 'failed':
      return 'bad';
    case 'uploaded':
    case 'converting':
    case 'benchmarking':
    case 'quantizing':
      return 'busy';
  }
}

/** Pipeline job statuses: `queued`, `active`, `completed`, `failed` (the version detail lists them as text). */
export function pipelineJobTone(status: string): Tone {
  if (status === 'completed') return 'good';
  if (status === 'failed') return 'bad';
  if (status === 'queued' || status === 'active') return 'busy';
  return 'neutral';
}

/** `replace-3x3-with-1x1 (3,7,11)`, `fold-batch-norm`. */
export function describeTransforms(transforms: ModelVersionSummary['transforms']): string {
  if (transforms.length === 0) return 'none';
  return transforms
    .map((transform) =>
      transform.kind === 'replace-3x3-with-1x1'
        ? `3x3→1x1 at layers ${transform.paperLayers.join(',')}`
        : transform.kind,
    )
    .join(' + ');
}
