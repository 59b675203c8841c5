import { Module } from '@nestjs/common';
import { BrokerAuthModule } from '../broker-auth/broker-auth.module';
import { DevicePresenceListener } from './device-presence.listener';
import { DevicePresenceWriter } from './device-presence-writer';
import { DevicesController } from './devices.controller';
import { DevicesRepository } from './devices.repository';
import { DevicesService } from './devices.service';

@Module({
  imports: [BrokerAuthModule],
  controllers: [DevicesController],
  providers: [DevicesRepository, DevicePresenceWriter, DevicesService, DevicePresenceListener],
  exports: [DevicesService],
})
export class DevicesModule {}
