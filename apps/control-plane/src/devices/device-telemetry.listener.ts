import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { decodeMessage, TopicScheme } from '@emofleet/protocol';
import { type AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { MqttAdapter } from '../messaging/mqtt.adapter';
import { ProtocolRejections } from '../messaging/protocol-rejections';
import { DevicesService } from './devices.service';

/**
 * Keeps each device's newest telemetry message in the registry. Telemetry is not retained and replicas share
 * it (MQTT 5 shared subscription): each message is stored by one replica.
 */
@Injectable()
export class DeviceTelemetryListener implements OnApplicationBootstrap {
  private readonly topics: TopicScheme;

  constructor(
    private readonly mqtt: MqttAdapter,
    private readonly devices: DevicesService,
    private readonly rejections: ProtocolRejections,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.topics = new TopicScheme(config.mqtt.topicPrefix);
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.mqtt.connect();
    await this.mqtt.subscribe(
      this.topics.filterFor('telemetry'),
      async (topic, payload) => {
        const decoded = decodeMessage(topic, payload, { topics: this.topics });
        if (!decoded.ok) return this.rejections.record(decoded);
        if (decoded.kind !== 'telemetry') return;
        const { v: _version, deviceId, ...telemetry } = decoded.message;
        await this.devices.recordTelemetry(deviceId, telemetry, new Date());
      },
      { shared: true },
    );
  }
}
