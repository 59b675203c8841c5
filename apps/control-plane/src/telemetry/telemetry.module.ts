import { Module } from '@nestjs/common';
import { RolloutStatusModule } from '../rollouts/rollout-status.module';
import { TelemetryBuffer } from './telemetry-buffer';
import { TelemetryIngestCounters } from './telemetry-ingest-counters';
import { TelemetryQueryRepository } from './telemetry-query.repository';
import { TelemetryController } from './telemetry.controller';
import { TelemetryListener } from './telemetry.listener';
import { TelemetryRepository } from './telemetry.repository';
import { TelemetryService } from './telemetry.service';

/** Telemetry ingestion from MQTT (batched writes) and the telemetry API (api role). */
@Module({
  imports: [RolloutStatusModule],
  controllers: [TelemetryController],
  providers: [
    TelemetryRepository,
    TelemetryIngestCounters,
    TelemetryBuffer,
    TelemetryListener,
    TelemetryQueryRepository,
    TelemetryService,
  ],
  exports: [TelemetryIngestCounters, TelemetryBuffer, TelemetryQueryRepository],
})
export class TelemetryModule {}
