import { Module } from '@nestjs/common';
import { type AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { INFRASTRUCTURE, type Infrastructure } from '../infra/infrastructure';
import { MqttAdapter } from '../messaging/mqtt.adapter';
import { BROKER_CREDENTIALS, type BrokerCredentialsAdapter } from './broker-credentials.adapter';
import { DeviceCredentialsRepository } from './device-credentials.repository';
import { EmbeddedBrokerCredentials } from './embedded-broker-credentials';
import { MosquittoDynsecClient } from './mosquitto-dynsec-client';
import { MosquittoDynsecCredentials } from './mosquitto-dynsec-credentials';
import { UnmanagedBrokerCredentials } from './unmanaged-broker-credentials';

/** Device accounts on the MQTT broker: the adapter MQTT_DEVICE_CREDENTIALS selects, and the stored secrets. */
@Module({
  providers: [
    DeviceCredentialsRepository,
    {
      provide: BROKER_CREDENTIALS,
      inject: [APP_CONFIG, INFRASTRUCTURE, MqttAdapter, DeviceCredentialsRepository],
      useFactory: (
        config: AppConfig,
        infrastructure: Infrastructure,
        mqtt: MqttAdapter,
        credentials: DeviceCredentialsRepository,
      ): BrokerCredentialsAdapter => {
        switch (config.mqtt.deviceCredentials) {
          case 'embedded': {
            const broker = infrastructure.embeddedBroker;
            if (!broker)
              throw new Error('MQTT_DEVICE_CREDENTIALS=embedded needs the embedded broker (no MQTT_URL)');
            return new EmbeddedBrokerCredentials(broker, credentials);
          }
          case 'mosquitto-dynsec':
            return new MosquittoDynsecCredentials(new MosquittoDynsecClient(mqtt), config.mqtt.topicPrefix);
          case 'unmanaged':
            return new UnmanagedBrokerCredentials();
        }
      },
    },
  ],
  exports: [BROKER_CREDENTIALS, DeviceCredentialsRepository],
})
export class BrokerAuthModule {}
