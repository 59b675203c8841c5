import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { TELEMETRY_MAINTENANCE_QUEUE } from './telemetry-maintenance';
import {
  TelemetryMaintenanceProcessor,
  TelemetryMaintenanceScheduler,
} from './telemetry-maintenance.processor';
import { TelemetryMaintenanceService } from './telemetry-maintenance.service';
import { TelemetryRollupsRepository } from './telemetry-rollups.repository';

/** The telemetry roll-up and retention jobs (worker role). */
@Module({
  imports: [BullModule.registerQueue({ name: TELEMETRY_MAINTENANCE_QUEUE })],
  providers: [
    TelemetryRollupsRepository,
    TelemetryMaintenanceService,
    TelemetryMaintenanceProcessor,
    TelemetryMaintenanceScheduler,
  ],
  exports: [TelemetryMaintenanceService],
})
export class TelemetryWorkerModule {}
