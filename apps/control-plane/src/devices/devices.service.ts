import { Injectable, NotFoundException } from '@nestjs/common';
import { type DeviceRow } from '../database/schema';
import { type DeviceBirthRecord, DevicesRepository } from './devices.repository';
import { type DeviceDto, type DeviceListDto, type DeviceListQueryDto } from './device.dto';

@Injectable()
export class DevicesService {
  constructor(private readonly repository: DevicesRepository) {}

  recordBirth(record: DeviceBirthRecord): Promise<void> {
    return this.repository.upsertBirth(record);
  }

  recordSessionState(deviceId: string, online: boolean, sessionSeq: number, seenAt: Date): Promise<boolean> {
    return this.repository.applySessionState(deviceId, online, sessionSeq, seenAt);
  }

  async list(query: DeviceListQueryDto): Promise<DeviceListDto> {
    const rows = await this.repository.list({
      online: query.online,
      after: query.cursor,
      limit: query.limit + 1,
    });
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    return { items: page.map(toDto), nextCursor: rows.length > query.limit && last ? last.id : null };
  }

  async get(deviceId: string): Promise<DeviceDto> {
    const row = await this.repository.findById(deviceId);
    if (!row) throw new NotFoundException(`no device with id ${JSON.stringify(deviceId)}`);
    return toDto(row);
  }
}

function toDto(row: DeviceRow): DeviceDto {
  return {
    id: row.id,
    name: row.name,
    tags: row.tags,
    capabilities: row.capabilities ?? null,
    online: row.online,
    simulated: row.simulated,
    sessionSeq: row.sessionSeq ?? null,
    lastSeenAt: row.lastSeenAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
  };
}
