import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import { RequireRole } from '../auth/roles';
import {
  DeviceSeriesDto,
  FleetSeriesDto,
  FleetSeriesQueryDto,
  FleetSummaryDto,
  SeriesQueryDto,
} from './telemetry.dto';
import { TelemetryService } from './telemetry.service';

@ApiTags('telemetry')
@Controller()
@RequireRole('viewer')
export class TelemetryController {
  constructor(private readonly telemetry: TelemetryService) {}

  @Get('telemetry/fleet')
  @ApiOperation({
    summary:
      "Fleet FPS over time: per bucket and group, mean, median and 10th percentile of the devices' FPS",
  })
  @ZodResponse({ type: FleetSeriesDto })
  fleet(@Query() query: FleetSeriesQueryDto): Promise<FleetSeriesDto> {
    return this.telemetry.fleetSeries(query);
  }

  @Get('devices/:id/telemetry')
  @ApiOperation({ summary: "One device's FPS, latency percentiles, accuracy, CPU and temperature over time" })
  @ZodResponse({ type: DeviceSeriesDto })
  device(@Param('id') id: string, @Query() query: SeriesQueryDto): Promise<DeviceSeriesDto> {
    return this.telemetry.deviceSeries(id, query);
  }

  @Get('fleet/summary')
  @ApiOperation({ summary: 'The fleet now: devices in service, online, and by running model' })
  @ZodResponse({ type: FleetSummaryDto })
  summary(): Promise<FleetSummaryDto> {
    return this.telemetry.fleetSummary();
  }
}
