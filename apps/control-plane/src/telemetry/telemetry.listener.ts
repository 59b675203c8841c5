import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { decodeMessage, TopicScheme } from '@emofleet/protocol';
import { type AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { MqttAdapter } from '../messaging/mqtt.adapter';
import { ProtocolRejections } from '../messaging/protocol-rejections';
import { TelemetryBuffer } from './telemetry-buffer';

/**
 * Receives the devices' telemetry windows into the write buffer. Shared between replicas on MQTT 5, so each
 * message is stored by one replica; on MQTT 3.1.1 the `(device, windowStart)` key keeps it stored once.
 */
@Injectable()
export class TelemetryListener implements OnApplicationBootstrap {
  private readonly topics: TopicScheme;

  constructor(
    private readonly mqtt: MqttAdapter,
    private readonly buffer: TelemetryBuffer,
    private readonly rejections: ProtocolRejections,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.topics = new TopicScheme(config.mqtt.topicPrefix);
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.mqtt.connect();
    await this.mqtt.subscribe(
      this.topics.filterFor('telemetry'),
      (topic, payload) => {
        const decoded = decodeMessage(topic, payload, { topics: this.topics });
        if (!decoded.ok) return this.rejections.record(decoded);
        if (decoded.kind === 'telemetry') this.buffer.add(decoded.message, new Date());
      },
      { shared: true },
    );
  }
}
