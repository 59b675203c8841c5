import { BadRequestException, Injectable, NotFoundException } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { type WebhookDeliveryRow, type WebhookRow } from '../database/schema';
import { parseTagSelector } from '../devices/tag-selector';
import {
  type CreateWebhookDto,
  type DeliveryListDto,
  type DeliveryListQueryDto,
  type WebhookDto,
  type WebhookListDto,
} from './webhooks.dto';
import { WebhooksRepository } from './webhooks.repository';

/** Registering, listing, re-enabling and deleting webhooks, and reading their delivery logs. */
@Injectable()
export class WebhooksService {
  constructor(private readonly repository: WebhooksRepository) {}

  async create(body: CreateWebhookDto, createdBy: string | undefined): Promise<WebhookDto> {
    if (body.filter.tags !== undefined) {
      const tags = parseTagSelector(body.filter.tags);
      if (!tags.ok) throw new BadRequestException(`filter.tags: ${tags.problem}`);
    }
    const row = await this.repository.create({
      id: randomUUID(),
      url: body.url,
      secret: body.secret,
      filter: body.filter,
      createdBy,
    });
    return toWebhookDto(row);
  }

  async list(): Promise<WebhookListDto> {
    return { items: (await this.repository.list()).map(toWebhookDto) };
  }

  async get(id: string): Promise<WebhookDto> {
    return toWebhookDto(await this.require(id));
  }

  async enable(id: string): Promise<WebhookDto> {
    const row = await this.repository.enable(id);
    if (!row) throw new NotFoundException(`webhook ${id} does not exist`);
    return toWebhookDto(row);
  }

  async delete(id: string): Promise<void> {
    if (!(await this.repository.delete(id))) throw new NotFoundException(`webhook ${id} does not exist`);
  }

  async deliveries(id: string, query: DeliveryListQueryDto): Promise<DeliveryListDto> {
    await this.require(id);
    const rows = await this.repository.deliveries(id, query.cursor, query.limit + 1);
    const items = rows.slice(0, query.limit).map(toDeliveryDto);
    const last = items[items.length - 1];
    return { items, nextCursor: rows.length > query.limit && last ? last.id : null };
  }

  private async require(id: string): Promise<WebhookRow> {
    const row = await this.repository.find(id);
    if (!row) throw new NotFoundException(`webhook ${id} does not exist`);
    return row;
  }
}

function toWebhookDto(row: WebhookRow): WebhookDto {
  return {
    id: row.id,
    url: row.url,
    filter: row.filter,
    enabled: row.enabled,
    disabledReason: row.disabledReason,
    consecutiveFailures: row.consecutiveFailures,
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
  };
}

function toDeliveryDto(row: WebhookDeliveryRow): DeliveryListDto['items'][number] {
  return {
    id: String(row.id),
    kind: row.kind,
    eventId: String(row.eventId),
    status: row.status,
    attempts: row.attempts,
    lastStatusCode: row.lastStatusCode,
    lastError: row.lastError,
    createdAt: row.createdAt.toISOString(),
    lastAttemptAt: row.lastAttemptAt?.toISOString() ?? null,
    deliveredAt: row.deliveredAt?.toISOString() ?? null,
  };
}
