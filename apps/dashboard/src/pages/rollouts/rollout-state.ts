import type { RolloutPhase, RolloutSummary } from '../../api/types';
import type { Tone } from '../../components/StatusBadge';

export function rolloutTone(state: RolloutSummary['state']): Tone {
  switch (state) {
    case 'running':
      return 'busy';
    case 'awaiting-approval':
    case 'paused':
      return 'warn';
    case 'completed':
      return 'good';
    case 'aborted':
      return 'bad';
    case 'canceled':
      return 'neutral';
  }
}

export function phaseTone(state: RolloutPhase['state']): Tone {
  switch (state) {
    case 'running':
      return 'busy';
    case 'awaiting-approval':
      return 'warn';
    case 'succeeded':
      return 'good';
    case 'failed':
      return 'bad';
    case 'pending':
    case 'skipped':
      return 'neutral';
  }
}
