import { BadRequestException, Injectable } from '@nestjs/common';
import { type EmotionEventRow } from '../database/schema';
import { parseTagSelector } from '../devices/tag-selector';
import { type EventFilter } from './event-filter';
import {
  type EventAggregateQueryDto,
  type EventAggregatesDto,
  type EventContinuityDto,
  type EventDeleteQueryDto,
  type EventDeletionDto,
  type EventDto,
  type EventFilterQueryDto,
  type EventListDto,
  type EventListQueryDto,
} from './events.dto';
import { type AggregateDimension, EventsQueryRepository } from './events-query.repository';
import { EventsRepository } from './events.repository';
import { EventsDeletionRepository } from './events-deletion.repository';
import { parseBucketSeconds } from '../telemetry/telemetry-bucket';

const MISSING_RANGES_SHOWN = 100;

/** Reading stored events: filtered pages in global order, and per-device sequence continuity. */
@Injectable()
export class EventsService {
  constructor(
    private readonly query: EventsQueryRepository,
    private readonly events: EventsRepository,
    private readonly deletion: EventsDeletionRepository,
  ) {}

  async list(query: EventListQueryDto): Promise<EventListDto> {
    const rows = await this.query.page(toEventFilter(query), query.cursor, query.limit + 1);
    const items = rows.slice(0, query.limit).map(toEventDto);
    const last = items[items.length - 1];
    return { items, nextCursor: rows.length > query.limit && last ? last.id : null };
  }

  async aggregates(query: EventAggregateQueryDto): Promise<EventAggregatesDto> {
    const bucketSeconds = parseBucketSeconds(query.bucket);
    if (bucketSeconds === undefined)
      throw new BadRequestException(`bucket: "${query.bucket}" is not a width`);
    const dimensions = query.by.map(toDimension);
    const rows = await this.query.aggregate(toEventFilter(query), bucketSeconds, dimensions);
    return {
      bucketSeconds,
      dimensions: query.by,
      rows: rows.map((row) => ({
        bucketStart: row.bucketStart.toISOString(),
        keys: Object.fromEntries(query.by.map((name, index) => [name, row.keys[index] ?? null])),
        count: row.count,
      })),
    };
  }

  async delete(query: EventDeleteQueryDto): Promise<EventDeletionDto> {
    if (query.from !== undefined && query.to !== undefined && query.from >= query.to) {
      throw new BadRequestException('from: must be before to');
    }
    const deleted = await this.deletion.deleteForDevice(query.device, query.from, query.to);
    return { deviceId: query.device, deleted };
  }

  async continuity(deviceId: string): Promise<EventContinuityDto> {
    return { deviceId, ...(await this.events.continuity(deviceId, MISSING_RANGES_SHOWN)) };
  }
}

/** The repository filter for validated query parameters; a bad tag selector is a 400 naming the requirement. */
export function toEventFilter(query: EventFilterQueryDto): EventFilter {
  const tags = query.tags === undefined ? undefined : parseTagSelector(query.tags);
  if (tags && !tags.ok) throw new BadRequestException(`tags: ${tags.problem}`);
  if (query.from !== undefined && query.to !== undefined && query.from >= query.to) {
    throw new BadRequestException('from: must be before to');
  }
  return {
    deviceId: query.device,
    tags: tags?.requirements,
    label: query.label,
    from: query.from,
    to: query.to,
    minScore: query.minScore,
    modelId: query.model,
  };
}

export function toEventDto(row: EmotionEventRow): EventDto {
  return {
    id: String(row.id),
    deviceId: row.deviceId,
    seq: row.seq,
    label: row.label,
    score: row.score,
    box: row.box,
    startedAt: row.startedAt.toISOString(),
    durationMs: row.durationMs,
    frameIndex: row.frameIndex,
    modelId: row.modelId,
    trackId: row.trackId,
    receivedAt: row.receivedAt.toISOString(),
  };
}

function toDimension(name: string): AggregateDimension {
  if (name === 'label') return { by: 'label' };
  if (name === 'device') return { by: 'device' };
  return { by: 'tag', key: name.slice('tag:'.length) };
}
