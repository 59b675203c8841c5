import { BadRequestException, Injectable } from '@nestjs/common';
import { RolloutStatusRepository } from '../rollouts/rollout-status.repository';
import { MAX_BUCKETS, parseBucketSeconds, telemetrySourceFor } from './telemetry-bucket';
import {
  type DeviceSeriesDto,
  type FleetSeriesDto,
  type FleetSeriesQueryDto,
  type FleetSummaryDto,
  type SeriesQueryDto,
} from './telemetry.dto';
import {
  type FleetGrouping,
  type SeriesWindow,
  TelemetryQueryRepository,
} from './telemetry-query.repository';

const DEFAULT_RANGE_MS = 3_600_000;

/** Telemetry for dashboards: fleet and device series, and the fleet's current summary. */
@Injectable()
export class TelemetryService {
  constructor(
    private readonly query: TelemetryQueryRepository,
    private readonly rollouts: RolloutStatusRepository,
  ) {}

  async fleetSeries(query: FleetSeriesQueryDto): Promise<FleetSeriesDto> {
    const window = seriesWindow(query);
    const grouping: FleetGrouping =
      query.groupBy === undefined
        ? { by: 'none' }
        : query.groupBy === 'model'
          ? { by: 'model' }
          : { by: 'tag', key: query.groupBy.slice('tag:'.length) };
    const points = await this.query.fleetSeries(window, grouping);
    return {
      bucketSeconds: window.bucketSeconds,
      source: window.source,
      points: points.map((point) => ({ ...point, bucketStart: point.bucketStart.toISOString() })),
    };
  }

  async deviceSeries(deviceId: string, query: SeriesQueryDto): Promise<DeviceSeriesDto> {
    const window = seriesWindow(query);
    const points = await this.query.deviceSeries(deviceId, window);
    return {
      deviceId,
      bucketSeconds: window.bucketSeconds,
      source: window.source,
      points: points.map((point) => ({ ...point, bucketStart: point.bucketStart.toISOString() })),
    };
  }

  async fleetSummary(): Promise<FleetSummaryDto> {
    const [byModel, rollouts] = await Promise.all([this.query.modelPresence(), this.rollouts.fleetStatus()]);
    return {
      devices: byModel.reduce((sum, entry) => sum + entry.devices, 0),
      online: byModel.reduce((sum, entry) => sum + entry.online, 0),
      byModel,
      rollouts,
    };
  }
}

function seriesWindow(query: SeriesQueryDto): SeriesWindow {
  const bucketSeconds = parseBucketSeconds(query.bucket);
  if (bucketSeconds === undefined) throw new BadRequestException(`bucket: "${query.bucket}" is not a width`);
  const to = query.to ?? new Date();
  const from = query.from ?? new Date(to.getTime() - DEFAULT_RANGE_MS);
  if (from >= to) throw new BadRequestException('from: must be before to');
  const buckets = (to.getTime() - from.getTime()) / (bucketSeconds * 1000);
  if (buckets > MAX_BUCKETS) {
    throw new BadRequestException(
      `bucket: ${query.bucket} gives ${Math.ceil(buckets)} buckets between from and to; at most ${MAX_BUCKETS}`,
    );
  }
  return { from, to, bucketSeconds, source: telemetrySourceFor(bucketSeconds) };
}
