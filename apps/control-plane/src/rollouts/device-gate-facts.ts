import { Injectable } from '@nestjs/common';
import { inArray } from 'drizzle-orm';
import { DatabaseAdapter } from '../database/database.adapter';
import {
  type DeviceModelRef,
  devices,
  type ModelVersionRow,
  type PreviousModel,
  type RolloutModelRef,
} from '../database/schema';
import { DeviceJobsService } from '../device-jobs/device-jobs.service';
import { ModelsRepository } from '../models/models.repository';
import { type DeviceGateInputs } from './device-gate';

/** What one device's floors are derived from, and the model it runs now. */
export interface DeviceFacts {
  previous: PreviousModel;
  inputs: DeviceGateInputs;
}

/**
 * What devices' floors are derived from when they start: the model each runs now (to roll back to), that
 * model's FPS on the device (its newest install's health check, else its telemetry) and accuracy (its telemetry,
 * else the pipeline's benchmark), and the benchmark accuracy of the model being rolled out. Read for a batch of
 * devices at once: a few statements however many devices, each model version read once.
 */
@Injectable()
export class DeviceGateFacts {
  constructor(
    private readonly database: DatabaseAdapter,
    private readonly models: ModelsRepository,
    private readonly deviceJobs: DeviceJobsService,
  ) {}

  /** Facts per device of `deviceIds` (an unknown device runs no model and has no telemetry). */
  async read(deviceIds: readonly string[], model: RolloutModelRef): Promise<Map<string, DeviceFacts>> {
    const rows = await this.database.db
      .select({ id: devices.id, currentModel: devices.currentModel, lastTelemetry: devices.lastTelemetry })
      .from(devices)
      .where(inArray(devices.id, [...deviceIds]));
    const found = new Map(rows.map((row) => [row.id, row]));
    const versions = await this.versionsOf(rows.map((row) => row.currentModel));
    const rolledOut = await this.models.findVersionById(model.modelVersionId);
    const rolloutModelAccuracy = rolledOut === undefined ? null : benchmarkAccuracy(rolledOut);
    const installs = await this.deviceJobs.lastMeasuredInstalls(
      rows.flatMap((row) => {
        const version = versions.get(modelKey(row.currentModel));
        return version === undefined ? [] : [{ deviceId: row.id, modelVersionId: version.id }];
      }),
    );
    const facts = new Map<string, DeviceFacts>();
    for (const deviceId of deviceIds) {
      const device = found.get(deviceId);
      const current = device?.currentModel ?? null;
      const version = versions.get(modelKey(current));
      const telemetry = device?.lastTelemetry ?? null;
      const telemetryOfCurrent =
        telemetry !== null && current !== null && telemetry.modelId === current.modelId ? telemetry : null;
      facts.set(deviceId, {
        previous: { model: current, modelVersionId: version?.id ?? null },
        inputs: {
          previousFps:
            version === undefined ? null : previousFps(version, installs.get(deviceId), telemetryOfCurrent),
          previousAccuracy: previousAccuracy(version, telemetryOfCurrent),
          rolloutModelAccuracy,
        },
      });
    }
    return facts;
  }

  /** The registry's versions of the models devices run, by `modelKey` (read once each). */
  private async versionsOf(
    models: ReadonlyArray<DeviceModelRef | null>,
  ): Promise<Map<string, ModelVersionRow>> {
    const distinct = new Map<string, DeviceModelRef>();
    for (const model of models) if (model !== null) distinct.set(modelKey(model), model);
    const versions = new Map<string, ModelVersionRow>();
    for (const [key, model] of distinct) {
      const number = Number(model.version);
      if (!Number.isSafeInteger(number) || number < 1) continue;
      const version = await this.models.findVersion(model.modelId, number);
      if (version !== undefined) versions.set(key, version);
    }
    return versions;
  }
}

function modelKey(model: DeviceModelRef | null): string {
  return model === null ? '' : JSON.stringify([model.modelId, model.version]);
}

function previousFps(
  version: ModelVersionRow,
  install: { jobId: string; measuredFps: number } | undefined,
  telemetry: Record<string, unknown> | null,
): DeviceGateInputs['previousFps'] {
  if (install !== undefined) {
    return {
      value: install.measuredFps,
      basis: `health check of ${version.modelName}@${version.version} on this device, job ${install.jobId}`,
    };
  }
  const fps = telemetry?.fps;
  return typeof fps === 'number' && fps > 0
    ? { value: fps, basis: `telemetry of ${version.modelName}@${version.version} on this device` }
    : null;
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
