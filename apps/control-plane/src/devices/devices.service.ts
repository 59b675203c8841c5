import { BadRequestException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import {
  type DeviceScopedKind,
  KIND_DELIVERY,
  MESSAGE_KINDS,
  isJobScopedKind,
  TopicScheme,
} from '@emofleet/protocol';
import { BROKER_CREDENTIALS, type BrokerCredentialsAdapter } from '../broker-auth/broker-credentials.adapter';
import { type AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { type DeviceRow } from '../database/schema';
import { MqttAdapter } from '../messaging/mqtt.adapter';
import { parseCapabilityRequirements } from './capability-requirements';
import {
  type DeviceDto,
  type DeviceListDto,
  type DeviceListQueryDto,
  type UpdateDeviceDto,
} from './device.dto';
import { DevicePresenceWriter } from './device-presence-writer';
import {
  type DeviceBirthRecord,
  type DeviceSessionState,
  DevicesRepository,
  TooManyTagsError,
} from './devices.repository';
import { parseTagSelector } from './tag-selector';

/** The retained per-device topics (birth, state, desired, ...), cleared when a device is decommissioned. */
const RETAINED_DEVICE_KINDS = MESSAGE_KINDS.filter(
  (kind): kind is DeviceScopedKind => KIND_DELIVERY[kind].retain && !isJobScopedKind(kind),
);

@Injectable()
export class DevicesService {
  private readonly topics: TopicScheme;

  constructor(
    private readonly repository: DevicesRepository,
    private readonly presence: DevicePresenceWriter,
    @Inject(BROKER_CREDENTIALS) private readonly broker: BrokerCredentialsAdapter,
    private readonly mqtt: MqttAdapter,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.topics = new TopicScheme(config.mqtt.topicPrefix);
  }

  /** Registers or refreshes a device from its birth (batched with other devices' births and states). */
  async recordBirth(record: DeviceBirthRecord): Promise<void> {
    await this.presence.apply({ kind: 'birth', ...record });
  }

  /** Records a session's online or offline state; false when a newer session is already known. */
  recordSessionState(state: DeviceSessionState): Promise<boolean> {
    return this.presence.apply({ kind: 'state', ...state });
  }

  async list(query: DeviceListQueryDto): Promise<DeviceListDto> {
    const tags = query.tags === undefined ? undefined : parseTagSelector(query.tags);
    if (tags && !tags.ok) throw new BadRequestException(`tags: ${tags.problem}`);
    const capabilities =
      query.capability === undefined ? undefined : parseCapabilityRequirements(query.capability);
    if (capabilities && !capabilities.ok)
      throw new BadRequestException(`capability: ${capabilities.problem}`);
    const [modelId, version] = query.model?.split('@') ?? [];
    const rows = await this.repository.list({
      online: query.online,
      tags: tags?.requirements,
      capabilities: capabilities?.requirements,
      model: modelId === undefined ? undefined : { modelId, version },
      after: query.cursor,
      limit: query.limit + 1,
    });
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    return { items: page.map(toDto), nextCursor: rows.length > query.limit && last ? last.id : null };
  }

  /** A device; decommissioned devices are still shown (with `decommissionedAt`) for their history. */
  async get(deviceId: string): Promise<DeviceDto> {
    const row = await this.repository.findById(deviceId);
    if (!row) throw new NotFoundException(`no device with id ${JSON.stringify(deviceId)}`);
    return toDto(row);
  }

  async update(deviceId: string, update: UpdateDeviceDto): Promise<DeviceDto> {
    let row: DeviceRow | undefined;
    try {
      row = await this.repository.update(deviceId, update);
    } catch (error) {
      if (error instanceof TooManyTagsError) throw new BadRequestException(`tags: ${error.message}`);
      throw error;
    }
    if (!row) throw new NotFoundException(`no device in service with id ${JSON.stringify(deviceId)}`);
    return toDto(row);
  }

  /**
   * Takes a device out of service: the broker refuses it and ends its session (first, so a failure there
   * changes nothing and the call can be retried), its stored secret is deleted and it is marked decommissioned,
   * and its retained topics are cleared so no stale birth, state or desired model lingers on the broker.
   */
  async decommission(deviceId: string): Promise<DeviceDto> {
    const existing = await this.repository.findById(deviceId);
    if (!existing || existing.decommissionedAt) {
      throw new NotFoundException(`no device in service with id ${JSON.stringify(deviceId)}`);
    }
    await this.broker.revokeDevice(deviceId);
    const row = await this.repository.decommission(deviceId);
    if (!row) throw new NotFoundException(`no device in service with id ${JSON.stringify(deviceId)}`);
    for (const kind of RETAINED_DEVICE_KINDS) {
      await this.mqtt.publish(this.topics.topicFor({ kind, deviceId }), Buffer.alloc(0), {
        qos: 1,
        retain: true,
      });
    }
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
    currentModel: row.currentModel ?? null,
    desiredModel: row.desiredModel ?? null,
    lastTelemetry: row.lastTelemetry ?? null,
    lastTelemetryAt: row.lastTelemetryAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
    decommissionedAt: row.decommissionedAt?.toISOString() ?? null,
  };
}
