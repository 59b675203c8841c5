import { Module } from '@nestjs/common';
import { DeviceJobsCoreModule } from './device-jobs-core.module';
import { DeviceJobTimeoutProcessor, DeviceJobTimeoutSweepScheduler } from './device-job-timeout.processor';

/** Device job time-outs (worker role). */
@Module({
  imports: [DeviceJobsCoreModule],
  providers: [DeviceJobTimeoutProcessor, DeviceJobTimeoutSweepScheduler],
})
export class DeviceJobsWorkerModule {}
