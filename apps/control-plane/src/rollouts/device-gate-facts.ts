import { Injectable } from '@nestjs/common';
import { eq } from 'drizzle-orm';
import { DatabaseAdapter } from '../database/database.adapter';
import { devices, type ModelVersionRow, type PreviousModel, type RolloutModelRef } from '../database/schema';
import { APPLY_DESIRED_STATE, DeviceJobStatus } from '../device-jobs/device-job';
import { DeviceJobsService } from '../device-jobs/device-jobs.service';
import { ModelsRepository } from '../models/models.repository';
import { type DeviceGateInputs } from './device-gate';

/** Jobs of a device searched for the health check of its current model. */
const JOB_HISTORY_PAGE = 50;

/**
 * What a device's floors are derived from when it starts: the model it runs now (to roll back to), that model's
 * FPS on this device (its install's health check, else its telemetry) and accuracy (its telemetry, else the
 * pipeline's benchmark), and the benchmark accuracy of the model being rolled out.
 */
@Injectable()
export class DeviceGateFacts {
  constructor(
    private readonly database: DatabaseAdapter,
    private readonly models: ModelsRepository,
    private readonly deviceJobs: DeviceJobsService,
  ) {}

  async read(
    deviceId: string,
    model: RolloutModelRef,
  ): Promise<{ previous: PreviousModel; inputs: DeviceGateInputs }> {
    const [device] = await this.database.db
      .select({ currentModel: devices.currentModel, lastTelemetry: devices.lastTelemetry })
      .from(devices)
      .where(eq(devices.id, deviceId));
    const current = device?.currentModel ?? null;
    const version = current === null ? undefined : await this.versionOf(current.modelId, current.version);
    const telemetry = device?.lastTelemetry ?? null;
    const telemetryOfCurrent =
      telemetry !== null && current !== null && telemetry.modelId === current.modelId ? telemetry : null;
    const rolledOut = await this.models.findVersionById(model.modelVersionId);
    return {
      previous: { model: current, modelVersionId: version?.id ?? null },
      inputs: {
        previousFps:
          version === undefined ? null : await this.healthCheckFps(deviceId, version, telemetryOfCurrent),
        previousAccuracy: previousAccuracy(version, telemetryOfCurrent),
        rolloutModelAccuracy: rolledOut === undefined ? null : benchmarkAccuracy(rolledOut),
      },
    };
  }

  private async versionOf(modelName: string, version: string): Promise<ModelVersionRow | undefined> {
    const number = Number(version);
    return Number.isSafeInteger(number) && number >= 1
      ? this.models.findVersion(modelName, number)
      : undefined;
  }

  private async healthCheckFps(
    deviceId: string,
    version: ModelVersionRow,
    telemetry: Record<string, unknown> | null,
  ): Promise<DeviceGateInputs['previousFps']> {
    const { items } = await this.deviceJobs.listForDevice(deviceId, { limit: JOB_HISTORY_PAGE });
    const install = items.find(
      (job) =>
        job.operation === APPLY_DESIRED_STATE &&
        job.status === DeviceJobStatus.Succeeded &&
        job.modelVersionId === version.id &&
        job.statusDetails.measuredFps !== undefined,
    );
    if (install?.statusDetails.measuredFps !== undefined) {
      return {
        value: install.statusDetails.measuredFps,
        basis: `health check of ${version.modelName}@${version.version} on this device, job ${install.jobId}`,
      };
    }
    const fps = telemetry?.fps;
    return typeof fps === 'number' && fps > 0
      ? { value: fps, basis: `telemetry of ${version.modelName}@${version.version} on this device` }
      : null;
  }
}

function previousAccuracy(
  version: ModelVersionRow | undefined,
  telemetry: Record<string, unknown> | null,
): DeviceGateInputs['previousAccuracy'] {
  if (typeof telemetry?.accuracy === 'number') {
    return { value: telemetry.accuracy, basis: 'telemetry of this device' };
  }
  const benchmark = version === undefined ? null : benchmarkAccuracy(version);
  return benchmark === null || version === undefined
    ? null
    : { value: benchmark, basis: `benchmark of ${version.modelName}@${version.version}` };
}

/** The accuracy the pipeline's benchmark stored for a version, when it had an eval set. */
function benchmarkAccuracy(version: ModelVersionRow): number | null {
  const baseline = version.baseline;
  if (typeof baseline !== 'object' || baseline === null) return null;
  const accuracy = (baseline as Record<string, unknown>).accuracy;
  return typeof accuracy === 'number' ? accuracy : null;
}
