import { type WebhookFilter } from '../database/schema';
import { parseTagSelector } from '../devices/tag-selector';
import { type EventFilter } from '../events/event-filter';

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
