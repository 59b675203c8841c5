import { Inject, Injectable } from '@nestjs/common';
import { buildPublication, PROTOCOL_VERSION, TopicScheme } from '@emofleet/protocol';
import { type AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { MqttAdapter } from '../messaging/mqtt.adapter';

/** Publishes a device's retained `events/ack` with the protocol's delivery options. */
@Injectable()
export class EventAckPublisher {
  private readonly topics: TopicScheme;

  constructor(
    private readonly mqtt: MqttAdapter,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.topics = new TopicScheme(config.mqtt.topicPrefix);
  }

  async publish(deviceId: string, highestContiguousSeq: number): Promise<void> {
    const publication = buildPublication(
      this.topics,
      'events-ack',
      { v: PROTOCOL_VERSION, deviceId, highestContiguousSeq, timestamp: Date.now() },
      this.mqtt.supportsMqtt5 ? 5 : 4,
    );
    await this.mqtt.publish(publication.topic, publication.payload, {
      qos: publication.qos,
      retain: publication.retain,
      expirySeconds: publication.properties.messageExpiryInterval,
    });
  }
}
