import { and, gt, gte, lt, eq, sql, type SQL } from 'drizzle-orm';
import { devices, emotionEvents } from '../database/schema';
import { tagCondition } from '../devices/devices.repository';
import { type TagRequirement } from '../devices/tag-selector';

/** The filters shared by the events list, export and stream. */
export interface EventFilter {
  deviceId?: string;
  /** Tag selector requirements on the device's current tags. */
  tags?: TagRequirement[];
  label?: string;
  /** Inclusive lower bound on `startedAt`. */
  from?: Date;
  /** Exclusive upper bound on `startedAt`. */
  to?: Date;
  minScore?: number;
  modelId?: string;
}

/** SQL conditions on `emotion_events` (and, for tags, the device) for `filter`, after global id `afterId`. */
export function eventConditions(filter: EventFilter, afterId: number | undefined): SQL | undefined {
  const conditions: SQL[] = [];
  if (afterId !== undefined) conditions.push(gt(emotionEvents.id, afterId));
  if (filter.deviceId !== undefined) conditions.push(eq(emotionEvents.deviceId, filter.deviceId));
  if (filter.label !== undefined) conditions.push(eq(emotionEvents.label, filter.label));
  if (filter.from !== undefined) conditions.push(gte(emotionEvents.startedAt, filter.from));
  if (filter.to !== undefined) conditions.push(lt(emotionEvents.startedAt, filter.to));
  if (filter.minScore !== undefined) conditions.push(gte(emotionEvents.score, filter.minScore));
  if (filter.modelId !== undefined) conditions.push(eq(emotionEvents.modelId, filter.modelId));
  if (filter.tags !== undefined && filter.tags.length > 0) {
    conditions.push(
      sql`exists (select 1 from ${devices} where ${devices.id} = ${emotionEvents.deviceId} and ${and(
        ...filter.tags.map(tagCondition),
      )})`,
    );
  }
  return conditions.length === 0 ? undefined : and(...conditions);
}
