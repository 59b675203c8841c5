import { Module } from '@nestjs/common';
import { DevicePresenceListener } from './device-presence.listener';
import { DevicesController } from './devices.controller';
import { DevicesRepository } from './devices.repository';
import { DevicesService } from './devices.service';

@Module({
  controllers: [DevicesController],
  providers: [DevicesRepository, DevicesService, DevicePresenceListener],
  exports: [DevicesService],
})
export class DevicesModule {}
