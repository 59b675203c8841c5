import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { decodeMessage, type DecodeResult, TopicScheme } from '@emofleet/protocol';
import { type AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { MqttAdapter } from '../messaging/mqtt.adapter';
import { ProtocolRejections } from '../messaging/protocol-rejections';
import { DevicesService } from './devices.service';

/**
 * Keeps the registry's online/offline view in step with the devices' retained birth and state messages.
 * Both kinds are retained, so a control plane that (re)starts learns every device's presence at once; they are
 * not shared between replicas because brokers never deliver retained messages to shared subscriptions.
 */
@Injectable()
export class DevicePresenceListener implements OnApplicationBootstrap {
  private readonly logger = new Logger(DevicePresenceListener.name);
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
    const handler = (topic: string, payload: Buffer) =>
      this.handle(decodeMessage(topic, payload, { topics: this.topics }));
    await this.mqtt.subscribe(this.topics.filterFor('birth'), handler, { shared: false });
    await this.mqtt.subscribe(this.topics.filterFor('state'), handler, { shared: false });
  }

  private async handle(decoded: DecodeResult): Promise<void> {
    if (!decoded.ok) {
      // A zero-length retained payload is how a retained message is cleared: nothing to record.
      if (decoded.reason !== 'empty-payload') this.rejections.record(decoded);
      return;
    }
    const receivedAt = new Date();
    switch (decoded.kind) {
      case 'birth': {
        const { message } = decoded;
        await this.devices.recordBirth({
          deviceId: message.deviceId,
          sessionSeq: message.bdSeq,
          capabilities: { ...message.capabilities, agentVersion: message.agentVersion },
          simulated: message.capabilities.simulated,
          runningModel: message.runningModel,
          seenAt: receivedAt,
        });
        return;
      }
      case 'state': {
        const { message } = decoded;
        const applied = await this.devices.recordSessionState({
          deviceId: message.deviceId,
          online: message.state === 'online',
          sessionSeq: message.bdSeq,
          seenAt: receivedAt,
        });
        if (!applied) {
          this.logger.debug(
            `ignored ${message.state} of ${message.deviceId} session ${message.bdSeq}: stale`,
          );
        }
        return;
      }
      default:
        return;
    }
  }
}
