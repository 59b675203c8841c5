import { Global, Module } from '@nestjs/common';
import { MqttAdapter } from './mqtt.adapter';
import { ProtocolRejections } from './protocol-rejections';

@Global()
@Module({ providers: [MqttAdapter, ProtocolRejections], exports: [MqttAdapter, ProtocolRejections] })
export class MessagingModule {}
