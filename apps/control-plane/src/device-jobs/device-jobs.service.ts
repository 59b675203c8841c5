import { randomUUID } from 'node:crypto';
import {
  BadRequestException,
  ConflictException,
  HttpException,
  Injectable,
  Logger,
  NotFoundException,
  UnprocessableEntityException,
} from '@nestjs/common';
import {
  formatIssues,
  type HealthCheckSpec,
  healthCheckSpecSchema,
  JOB_OPERATIONS,
  jobOperationNameSchema,
  parseJobDocument,
} from '@emofleet/protocol';
import { type DeviceModelRef } from '../database/schema';
import { DesiredStatePublisher, DEVICE_MODEL_FORMAT } from './desired-state.publisher';
import {
  APPLY_DESIRED_STATE,
  type DeviceJob,
  ROLLBACK,
  type DeviceJobUpdate,
  toDeviceJob,
  toDeviceJobUpdate,
} from './device-job';
import { DeviceJobChanges } from './device-job-changes';
import { DeviceJobTermination } from './device-job-termination';
import { DeviceJobTimeoutQueue } from './device-job-timeout.queue';
import {
  type DesiredStateAssignment,
  DeviceJobsRepository,
  type DeviceState,
} from './device-jobs.repository';
import { JobNotifyNextPublisher } from './job-notify-next.publisher';

// The contract's public API is importable from this file (docs/device-jobs.md).
export type { DeviceJob, DeviceJobChange } from './device-job';
export { DeviceJobStatus } from './device-job';
export { DeviceJobChanges } from './device-job-changes';

/** Largest JSON size of a job's parameters (the whole job must fit in one `jobs/notify-next` message). */
export const MAX_JOB_PARAMETERS_BYTES = 16 * 1024;
/** Longest time-out of a job: one week. */
export const MAX_JOB_TIMEOUT_MS = 7 * 24 * 3_600_000;

export interface AssignModelInput {
  deviceId: string;
  /** A model version id, or null: run no model. */
  modelVersionId: string | null;
  healthCheck: HealthCheckSpec | null;
  rolloutId?: string | null;
  timeoutMs?: number;
  /** Who asks: `token:<name>`, `rollout:<id>`, ... */
  actor: string;
}

export interface EnqueueJobInput {
  deviceId: string;
  operation: string;
  parameters: Record<string, unknown>;
  rolloutId?: string | null;
  timeoutMs?: number;
  actor: string;
}

/** What `assignModels` did for one device: its queued job, or why it was refused (a 4xx). */
export type AssignmentOutcome = { ok: true; job: DeviceJob } | { ok: false; error: HttpException };

/** A job with its append-only history, oldest entry first. */
export interface DeviceJobWithHistory extends DeviceJob {
  updates: DeviceJobUpdate[];
}

/**
 * Desired state and job executions of devices (docs/device-jobs.md). Desired states are stored, mirrored in
 * `devices.desired_model` (which authorises artifact downloads), signed and published retained; each change
 * queues an `apply-desired-state` job. Jobs are announced on the retained `jobs/notify-next` (the device's oldest
 * unfinished job); device updates are applied by `DeviceJobUpdates`, time-outs by the worker.
 */
@Injectable()
export class DeviceJobsService {
  private readonly logger = new Logger(DeviceJobsService.name);

  constructor(
    private readonly repository: DeviceJobsRepository,
    private readonly desired: DesiredStatePublisher,
    private readonly notifyNext: JobNotifyNextPublisher,
    private readonly termination: DeviceJobTermination,
    private readonly timeouts: DeviceJobTimeoutQueue,
    private readonly changes: DeviceJobChanges,
  ) {}

  /**
   * Sets the device's desired model (null = run no model), bumps its desiredVersion, publishes the signed
   * retained `desired` and queues an `apply-desired-state` job; an older unfinished apply job of the device is
   * cancelled. 400 bad time-out or health check, 404 unknown device, 409 decommissioned, 422 model version
   * unknown or not ready.
   */
  async assignModel(input: AssignModelInput): Promise<DeviceJob> {
    const [outcome] = await this.assignModels([input]);
    if (outcome === undefined) throw new Error('assignModels returned no outcome');
    if (!outcome.ok) throw outcome.error;
    return outcome.job;
  }

  /**
   * `assignModel` for many devices at once (a rollout's batch; each device at most once): the same checks and
   * outcome per device, in the order of `inputs`, with a handful of statements, one Redis round trip and one
   * transaction for the whole batch, and each model's manifest signed once. A refusal of one device (its 4xx)
   * leaves the others assigned; any other error is thrown, and then some devices may be assigned already.
   */
  async assignModels(inputs: readonly AssignModelInput[]): Promise<AssignmentOutcome[]> {
    const outcomes = new Array<AssignmentOutcome | undefined>(inputs.length);
    const devices = await this.repository.deviceStates(inputs.map((input) => input.deviceId));
    const readyModels = new Map<string, Promise<DeviceModelRef | HttpException>>();
    const assignments: Array<{ index: number; assignment: DesiredStateAssignment }> = [];
    for (const [index, input] of inputs.entries()) {
      const checked = await this.checkedAssignment(input, devices.get(input.deviceId), readyModels);
      if (checked instanceof HttpException) outcomes[index] = { ok: false, error: checked };
      else assignments.push({ index, assignment: checked });
    }
    const results = await this.repository.assignDesiredStates(
      assignments.map(({ assignment }) => assignment),
    );
    const queued: Array<{ job: DeviceJob; timeoutMs: number | null }> = [];
    for (const [position, result] of results.entries()) {
      const { index, assignment } = assignments[position] ?? unreachable();
      if (!result.ok) {
        // Decommissioned (or deleted) between the check and the transaction's lock.
        outcomes[index] = { ok: false, error: deviceError(assignment.deviceId, result.reason) };
        continue;
      }
      const job = toDeviceJob(result.job);
      outcomes[index] = { ok: true, job };
      queued.push({ job, timeoutMs: assignment.timeoutMs });
      for (const ended of result.superseded) {
        this.changes.announce({ job: toDeviceJob(ended.row), previousStatus: ended.previousStatus });
      }
    }
    this.logAssigned(
      assignments.map(({ assignment }) => assignment),
      queued.map(({ job }) => job),
    );
    // The job before the desired state: an agent that knows the job when the desired state arrives reports every
    // step of applying it (one that gets the desired state first starts at once and reports from the job's arrival).
    await this.announceQueued(queued);
    await this.desired.publishMany(queued.map(({ job }) => job.deviceId));
    return outcomes.map((outcome) => outcome ?? unreachable());
  }

  /** Queues a job of any operation but `apply-desired-state` (use `assignModel`): rollback, evaluate, build-engine. */
  async enqueueJob(input: EnqueueJobInput): Promise<DeviceJob> {
    await this.deviceInService(input.deviceId);
    const timeoutMs = checkedTimeout(input.timeoutMs);
    checkDocument(input.operation, input.parameters);
    // A rollback records the model version it returns to and the desired version it was queued at: when it
    // succeeds, that model becomes the desired state (DeviceJobUpdates), unless the desired state changed since.
    const rollback = input.operation === ROLLBACK;
    const row = await this.repository.insertJob({
      jobId: randomUUID(),
      deviceId: input.deviceId,
      operation: input.operation,
      parameters: input.parameters,
      rolloutId: input.rolloutId ?? null,
      modelVersionId: rollback ? await this.repository.rollbackTarget(input.deviceId) : null,
      desiredVersion: rollback ? await this.repository.currentDesiredVersion(input.deviceId) : null,
      createdBy: input.actor,
      timeoutMs,
    });
    const job = toDeviceJob(row);
    await this.announceQueued([{ job, timeoutMs }]);
    return job;
  }

  /** Cancels an unfinished job. 404 unknown job, 409 when it is finished already. */
  async cancel(jobId: string, reason: string, actor: string): Promise<DeviceJob> {
    const result = await this.termination.cancel(jobId, reason, actor);
    switch (result.outcome) {
      case 'unknown-job':
        throw new NotFoundException(`no device job with id ${JSON.stringify(jobId)}`);
      case 'refused':
        throw new ConflictException(`job ${jobId} cannot be canceled: ${result.problem}`);
      case 'canceled':
        return result.job;
    }
  }

  /** 404 when unknown. */
  async get(jobId: string): Promise<DeviceJob> {
    const row = await this.repository.findJob(jobId);
    if (!row) throw new NotFoundException(`no device job with id ${JSON.stringify(jobId)}`);
    return toDeviceJob(row);
  }

  /** The jobs of these ids that exist. */
  async getMany(jobIds: readonly string[]): Promise<DeviceJob[]> {
    return (await this.repository.findJobs(jobIds)).map(toDeviceJob);
  }

  async getWithHistory(jobId: string): Promise<DeviceJobWithHistory> {
    const job = await this.get(jobId);
    const updates = await this.repository.historyOf(jobId);
    return { ...job, updates: updates.map(toDeviceJobUpdate) };
  }

  /** Per device, its newest successful install of the model version that measured FPS (absent: none). */
  lastMeasuredInstalls(
    installs: ReadonlyArray<{ deviceId: string; modelVersionId: string }>,
  ): Promise<Map<string, { jobId: string; measuredFps: number }>> {
    return this.repository.lastMeasuredInstalls(installs);
  }

  /** The device's jobs, newest first; `cursor` is the `nextCursor` of the previous page. 404 unknown device. */
  async listForDevice(
    deviceId: string,
    page: { limit: number; cursor?: string },
  ): Promise<{ items: DeviceJob[]; nextCursor: string | null }> {
    if (!(await this.repository.findDevice(deviceId)))
      throw new NotFoundException(`no device with id ${JSON.stringify(deviceId)}`);
    let beforeSeq: number | undefined;
    if (page.cursor !== undefined) {
      beforeSeq = /^[1-9][0-9]{0,15}$/.test(page.cursor) ? Number(page.cursor) : Number.NaN;
      if (!Number.isSafeInteger(beforeSeq))
        throw new BadRequestException(`cursor: ${JSON.stringify(page.cursor)} is not a cursor of this list`);
    }
    const rows = await this.repository.listForDevice(deviceId, { limit: page.limit + 1, beforeSeq });
    const items = rows.slice(0, page.limit);
    const last = items[items.length - 1];
    return {
      items: items.map(toDeviceJob),
      nextCursor: rows.length > page.limit && last ? String(last.seq) : null,
    };
  }

  private async announceQueued(
    queued: ReadonlyArray<{ job: DeviceJob; timeoutMs: number | null }>,
  ): Promise<void> {
    await this.timeouts.schedule(
      queued.flatMap(({ job, timeoutMs }) =>
        timeoutMs === null ? [] : [{ deviceJobId: job.jobId, timeoutMs }],
      ),
    );
    await this.notifyNext.publishMany(queued.map(({ job }) => job.deviceId));
  }

  /** One line per assignment; one for a batch (its jobs are in the database, each with its creator). */
  private logAssigned(assignments: readonly DesiredStateAssignment[], jobs: readonly DeviceJob[]): void {
    const [first] = assignments;
    const [job] = jobs;
    if (first === undefined || job === undefined) return;
    const modelName = (model: DeviceModelRef | null) =>
      model === null ? 'none' : `${model.modelId}@${model.version}`;
    const model = modelName(first.model);
    if (jobs.length === 1) {
      this.logger.log(
        `${first.issuedBy} set the desired model of ${job.deviceId} to ${model} ` +
          `(desired version ${String(job.desiredVersion)}, job ${job.jobId})`,
      );
    } else {
      const models = [...new Set(assignments.map((assignment) => modelName(assignment.model)))];
      this.logger.log(
        `${first.issuedBy} set the desired model of ${jobs.length} devices to ${models.join(', ')}`,
      );
    }
  }

  /**
   * The assignment `input` asks for, or why it is refused, checked in this order: the device (404, 409), the
   * time-out and health check (400), the model version (422, looked up once per version in `readyModels`).
   */
  private async checkedAssignment(
    input: AssignModelInput,
    device: DeviceState | undefined,
    readyModels: Map<string, Promise<DeviceModelRef | HttpException>>,
  ): Promise<DesiredStateAssignment | HttpException> {
    if (device === undefined) return deviceError(input.deviceId, 'unknown-device');
    if (device === 'decommissioned') return deviceError(input.deviceId, 'decommissioned');
    let timeoutMs: number | null;
    try {
      timeoutMs = checkedTimeout(input.timeoutMs);
      checkHealthCheck(input.healthCheck);
    } catch (error) {
      if (error instanceof HttpException) return error;
      throw error;
    }
    let model: DeviceModelRef | null = null;
    if (input.modelVersionId !== null) {
      let ready = readyModels.get(input.modelVersionId);
      if (ready === undefined) {
        ready = this.readyModel(input.modelVersionId).catch((error: unknown) => {
          if (error instanceof HttpException) return error;
          throw error;
        });
        readyModels.set(input.modelVersionId, ready);
      }
      const found = await ready;
      if (found instanceof HttpException) return found;
      model = found;
    }
    return {
      deviceId: input.deviceId,
      modelVersionId: input.modelVersionId,
      model,
      healthCheck: input.healthCheck,
      rolloutId: input.rolloutId ?? null,
      issuedBy: input.actor,
      jobId: randomUUID(),
      timeoutMs,
      supersededReason: (desiredVersion) => `superseded by desired version ${desiredVersion}`,
    };
  }

  private async deviceInService(deviceId: string): Promise<void> {
    const device = await this.repository.findDevice(deviceId);
    if (!device) throw deviceError(deviceId, 'unknown-device');
    if (device.decommissionedAt) throw deviceError(deviceId, 'decommissioned');
  }

  /** The model a version is as devices see it; 422 unless it is ready with a darknet bundle manifest. */
  private async readyModel(modelVersionId: string): Promise<DeviceModelRef> {
    const version = await this.repository.findModelVersion(modelVersionId);
    if (!version) {
      throw new UnprocessableEntityException(
        `modelVersionId: no model version with id ${JSON.stringify(modelVersionId)}`,
      );
    }
    const name = `${version.modelName}@${version.version}`;
    if (version.status !== 'ready') {
      throw new UnprocessableEntityException(
        `modelVersionId: model version ${name} is ${version.status}, not ready` +
          (version.statusReason ? ` (${version.statusReason})` : ''),
      );
    }
    if (!(await this.repository.findManifest(modelVersionId, DEVICE_MODEL_FORMAT))) {
      throw new UnprocessableEntityException(
        `modelVersionId: model version ${name} has no signed ${DEVICE_MODEL_FORMAT} to deliver`,
      );
    }
    return { modelId: version.modelName, version: String(version.version) };
  }
}

function unreachable(): never {
  throw new Error('an assignment has no outcome');
}

function deviceError(deviceId: string, reason: 'unknown-device' | 'decommissioned'): HttpException {
  return reason === 'unknown-device'
    ? new NotFoundException(`no device with id ${JSON.stringify(deviceId)}`)
    : new ConflictException(`device ${deviceId} is decommissioned`);
}

function checkedTimeout(timeoutMs: number | undefined): number | null {
  if (timeoutMs === undefined) return null;
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > MAX_JOB_TIMEOUT_MS) {
    throw new BadRequestException(
      `timeout: ${timeoutMs} ms is not a whole number of milliseconds from 1 to ${MAX_JOB_TIMEOUT_MS}`,
    );
  }
  return timeoutMs;
}

/** Refuses a health gate the protocol cannot carry (it would fail only when the desired state is published). */
function checkHealthCheck(healthCheck: HealthCheckSpec | null): void {
  if (healthCheck === null) return;
  const parsed = healthCheckSpecSchema.safeParse(healthCheck);
  if (!parsed.success) throw new BadRequestException(`healthCheck: ${formatIssues(parsed.error.issues)}`);
}

/** Refuses a job document the device could not read: bad operation name, too large, or bad v1 parameters. */
function checkDocument(operation: string, parameters: Record<string, unknown>): void {
  const name = jobOperationNameSchema.safeParse(operation);
  if (!name.success)
    throw new BadRequestException(`operation: ${name.error.issues[0]?.message ?? 'invalid'}`);
  if (operation === APPLY_DESIRED_STATE) {
    throw new BadRequestException(
      `operation: ${APPLY_DESIRED_STATE} jobs are queued by setting the desired model (PUT /devices/:id/desired-model)`,
    );
  }
  const size = Buffer.byteLength(JSON.stringify(parameters), 'utf8');
  if (size > MAX_JOB_PARAMETERS_BYTES) {
    throw new BadRequestException(
      `parameters: ${size} bytes of JSON, at most ${MAX_JOB_PARAMETERS_BYTES} fit in a job notification`,
    );
  }
  if ((JOB_OPERATIONS as readonly string[]).includes(operation)) {
    const parsed = parseJobDocument({ operation, parameters });
    if (!parsed.ok) throw new BadRequestException(parsed.detail);
  }
}
