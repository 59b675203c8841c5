import { type WebhookFilter } from '../database/schema';
import { parseTagSelector } from '../devices/tag-selector';
import { type EventFilter } from '../events/event-filter';

/** Whether a webhook receives emotion events (the default when its filter names no types). */
export function receivesEmotionEvents(filter: WebhookFilter): boolean {
  return filter.types === undefined || filter.types.includes('emotion-event');
}

/** Whether a webhook receives rollout transitions. */
export function receivesRolloutEvents(filter: WebhookFilter): boolean {
  return filter.types?.includes('rollout') ?? false;
}

/** The events filter of a stored webhook filter (its tag selector was validated at registration). */
export function eventFilterOf(filter: WebhookFilter): EventFilter {
  const tags = filter.tags === undefined ? undefined : parseTagSelector(filter.tags);
  if (tags && !tags.ok) throw new Error(`webhook filter tags: ${tags.problem}`);
  return {
    deviceId: filter.device,
    tags: tags?.requirements,
    label: filter.label,
    minScore: filter.minScore,
    modelId: filter.model,
  };
}
