import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { decodeMessage, TopicScheme } from '@emofleet/protocol';
import { type AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { MqttAdapter } from '../messaging/mqtt.adapter';
import { ProtocolRejections } from '../messaging/protocol-rejections';
import { EventIngestionService } from './event-ingestion.service';

/**
 * Receives the devices' event batches. Shared between replicas on MQTT 5 (each batch goes to one replica);
 * ingestion is idempotent, so on MQTT 3.1.1 several replicas stay correct too.
 */
@Injectable()
export class EventBatchListener implements OnApplicationBootstrap {
  private readonly topics: TopicScheme;

  constructor(
    private readonly mqtt: MqttAdapter,
    private readonly ingestion: EventIngestionService,
    private readonly rejections: ProtocolRejections,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.topics = new TopicScheme(config.mqtt.topicPrefix);
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.mqtt.connect();
    await this.mqtt.subscribe(
      this.topics.filterFor('events'),
      async (topic, payload) => {
        const decoded = decodeMessage(topic, payload, { topics: this.topics });
        if (!decoded.ok) return this.rejections.record(decoded);
        if (decoded.kind !== 'events') return;
        await this.ingestion.ingest(decoded.message);
      },
      { shared: true },
    );
  }
}
