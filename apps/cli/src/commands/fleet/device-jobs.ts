import { type Command } from 'commander';
import { failure, requestJson } from '../../api-client';
import { CliError } from '../../cli-error';
import { connectionOf, type ConnectionOptions, withConnectionOptions } from './connection-options';

interface DeviceJobView {
  jobId: string;
  operation: string;
  status: string;
  versionNumber: number;
  statusDetails: { step?: string; reason?: string; measuredFps?: number };
  desiredVersion: number | null;
  queuedAt: string;
  finishedAt: string | null;
}

interface AssignOptions extends ConnectionOptions {
  minFps?: string;
  warmupFrames: string;
  measureFrames: string;
  minAccuracy?: string;
  timeout?: string;
  json?: boolean;
}

interface JobsOptions extends ConnectionOptions {
  limit: string;
  json?: boolean;
}

function positiveNumber(flag: string, text: string, options: { integer: boolean; min: number }): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value < options.min || (options.integer && !Number.isInteger(value)))
    throw new CliError(
      `${flag} must be ${options.integer ? 'a whole number' : 'a number'} ≥ ${options.min}`,
      2,
    );
  return value;
}

function describeJob(job: DeviceJobView): string {
  const details = job.statusDetails;
  const extra = [
    details.step,
    details.measuredFps === undefined ? undefined : `${details.measuredFps} FPS`,
    details.reason,
  ].filter((part) => part !== undefined);
  return (
    `${job.jobId} ${job.operation.padEnd(19)} ${job.status.padEnd(11)} v${job.versionNumber} ` +
    `queued ${job.queuedAt}${extra.length > 0 ? ` (${extra.join('; ')})` : ''}`
  );
}

/** `emofleet devices assign` and `emofleet devices jobs`: desired models and job executions of a device. */
export function registerDeviceJobCommands(devices: Command): void {
  withConnectionOptions(devices.command('assign'))
    .description('Set the model a device should run and queue the job that installs it (operator)')
    .argument('<id>', 'device id')
    .argument('<modelVersionId>', 'a ready model version id, or "none" to run no model')
    .option('--min-fps <fps>', 'health gate: the device must reach this FPS before switching')
    .option('--warmup-frames <n>', 'health gate: frames before measuring', '5')
    .option('--measure-frames <n>', 'health gate: frames measured', '50')
    .option('--min-accuracy <fraction>', 'health gate: least accuracy on the eval set (0..1)')
    .option('--timeout <seconds>', 'the job times out when not finished by then')
    .option('--json', 'print the job as JSON')
    .action(async (id: string, modelVersionId: string, options: AssignOptions) => {
      const gate = options.minFps !== undefined || options.minAccuracy !== undefined;
      const body = {
        modelVersionId: modelVersionId === 'none' ? null : modelVersionId,
        ...(gate
          ? {
              healthCheck: {
                warmupFrames: positiveNumber('--warmup-frames', options.warmupFrames, {
                  integer: true,
                  min: 0,
                }),
                measureFrames: positiveNumber('--measure-frames', options.measureFrames, {
                  integer: true,
                  min: 1,
                }),
                minFps: positiveNumber('--min-fps', options.minFps ?? '0', { integer: false, min: 0 }),
                minAccuracy:
                  options.minAccuracy === undefined
                    ? null
                    : positiveNumber('--min-accuracy', options.minAccuracy, { integer: false, min: 0 }),
              },
            }
          : {}),
        ...(options.timeout === undefined
          ? {}
          : { timeoutSeconds: positiveNumber('--timeout', options.timeout, { integer: true, min: 1 }) }),
      };
      const { server, token } = connectionOf(options);
      const { status, body: job } = await requestJson<DeviceJobView>(
        server,
        'PUT',
        `/devices/${encodeURIComponent(id)}/desired-model`,
        { token, body },
      );
      if (status !== 200) throw failure(`assigning a model to ${id}`, status, job);
      process.stdout.write(
        options.json
          ? `${JSON.stringify(job)}\n`
          : `desired version ${job.desiredVersion ?? '?'} of ${id}: job ${job.jobId} ${job.status}\n`,
      );
    });

  withConnectionOptions(devices.command('jobs'))
    .description("A device's jobs, newest first (all pages up to --limit)")
    .argument('<id>', 'device id')
    .option('--limit <n>', 'at most this many jobs', '50')
    .option('--json', 'print one JSON object per job')
    .action(async (id: string, options: JobsOptions) => {
      const limit = positiveNumber('--limit', options.limit, { integer: true, min: 1 });
      const { server, token } = connectionOf(options);
      let printed = 0;
      let cursor: string | null = null;
      do {
        const query = new URLSearchParams({ limit: String(Math.min(500, limit - printed)) });
        if (cursor !== null) query.set('cursor', cursor);
        const { status, body } = await requestJson<{ items: DeviceJobView[]; nextCursor: string | null }>(
          server,
          'GET',
          `/devices/${encodeURIComponent(id)}/jobs?${query.toString()}`,
          { token },
        );
        if (status !== 200) throw failure(`listing the jobs of ${id}`, status, body);
        for (const job of body.items) {
          process.stdout.write(options.json ? `${JSON.stringify(job)}\n` : `${describeJob(job)}\n`);
        }
        printed += body.items.length;
        cursor = body.nextCursor;
      } while (cursor !== null && printed < limit);
    });
}
