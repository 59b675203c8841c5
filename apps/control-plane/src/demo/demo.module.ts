import { Module } from '@nestjs/common';
import { DevicesModule } from '../devices/devices.module';
import { EnrolmentModule } from '../enrolment/enrolment.module';
import { ModelsModule } from '../models/models.module';
import { DemoAgentsAdapter } from './demo-agents.adapter';
import { DemoDetectorAdapter } from './demo-detector.adapter';
import { DemoService } from './demo.service';
import { FfmpegAdapter } from './ffmpeg.adapter';

/** The `npm start` demo (role `all`): started by main.ts through DemoService.start, idle otherwise. */
@Module({
  imports: [ModelsModule, EnrolmentModule, DevicesModule],
  providers: [DemoService, DemoDetectorAdapter, FfmpegAdapter, DemoAgentsAdapter],
  exports: [DemoService],
})
export class DemoModule {}
