import { Inject, Injectable } from '@nestjs/common';
import { buildPublication, type MessageKind, type MessageOf, TopicScheme } from '@emofleet/protocol';
import { type AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { MqttAdapter } from '../messaging/mqtt.adapter';

/** Sends one protocol message to a device with the protocol's topic, QoS, retain flag and expiry. */
@Injectable()
export class ProtocolMessageSender {
  readonly topics: TopicScheme;

  constructor(
    private readonly mqtt: MqttAdapter,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.topics = new TopicScheme(config.mqtt.topicPrefix);
  }

  async send<K extends MessageKind>(kind: K, message: MessageOf<K>): Promise<void> {
    const publication = buildPublication(this.topics, kind, message, this.mqtt.supportsMqtt5 ? 5 : 4);
    await this.mqtt.publish(publication.topic, publication.payload, {
      qos: publication.qos,
      retain: publication.retain,
      expirySeconds: publication.properties.messageExpiryInterval,
    });
  }
}
