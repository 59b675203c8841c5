import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type AgentProcess } from './agent-process';
import { type ControlPlaneApi } from './control-plane-api';
import { type PrivatePostgres } from './private-postgres';

/** One checked invariant: what was checked, whether it held, and what was found when it did not. */
export interface Check {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

export const check = (name: string, ok: boolean, detail = ''): Check => ({ name, ok, detail });

const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'REJECTED', 'TIMED_OUT', 'CANCELED']);

/**
 * Every device job finished exactly once or failed visibly: none is left QUEUED / IN_PROGRESS, each terminal job
 * has exactly one terminal entry in its history, and a failed one says why.
 */
export async function checkDeviceJobs(database: PrivatePostgres): Promise<Check> {
  const rows = await database.query(
    async (client) =>
      (
        await client.query<{
          job_id: string;
          status: string;
          reason: string | null;
          terminal_updates: string;
        }>(
          `select j.job_id, j.status, j.status_details->>'reason' as reason,
                (select count(*) from device_job_updates u
                  where u.job_id = j.job_id and u.status in ('SUCCEEDED','FAILED','REJECTED','TIMED_OUT','CANCELED'))
                  as terminal_updates
           from device_job_executions j`,
        )
      ).rows,
  );
  const problems: string[] = [];
  for (const row of rows) {
    const terminalUpdates = Number(row.terminal_updates);
    if (!TERMINAL.has(row.status)) problems.push(`${row.job_id} still ${row.status}`);
    else if (terminalUpdates !== 1)
      problems.push(`${row.job_id} ${row.status} with ${terminalUpdates} terminal updates`);
    else if (row.status !== 'SUCCEEDED' && row.status !== 'CANCELED' && !row.reason)
      problems.push(`${row.job_id} ${row.status} without a reason`);
  }
  return check(
    `device jobs ended once (${rows.length})`,
    problems.length === 0,
    problems.slice(0, 5).join('; '),
  );
}

/** Every pipeline job completed, or failed with its reason; none is left waiting or active. */
export async function checkPipelineJobs(database: PrivatePostgres): Promise<Check> {
  const rows = await database.query(
    async (client) =>
      (
        await client.query<{ id: string; status: string; failed_reason: string | null }>(
          'select id, status, failed_reason from pipeline_jobs',
        )
      ).rows,
  );
  const problems = rows
    .filter((row) => !(row.status === 'completed' || (row.status === 'failed' && row.failed_reason)))
    .map((row) => `${row.id} ${row.status}`);
  return check(`pipeline jobs finished (${rows.length})`, problems.length === 0, problems.join('; '));
}

interface SlotPointerFile {
  current: { modelId: string; version: string; sha256: string; slot: 'a' | 'b' } | null;
}

/**
 * No device runs an unverified model: the model each agent's `current` pointer names is a ready version whose
 * bundle the control plane signed (its sha256 is in `model_manifests`), its slot's install marker holds that
 * sha256 (the complete, verified bundle), and the device's last birth reports the same model.
 */
export async function checkRunningModels(
  database: PrivatePostgres,
  api: ControlPlaneApi,
  agents: readonly AgentProcess[],
): Promise<Check> {
  const problems: string[] = [];
  const signed = await database.query(
    async (client) =>
      (
        await client.query<{ sha256: string; status: string }>(
          `select m.sha256, v.status from model_manifests m join model_versions v on v.id = m.version_id
          where m.format = 'darknet-bundle'`,
        )
      ).rows,
  );
  const readySigned = new Set(signed.filter((row) => row.status === 'ready').map((row) => row.sha256));
  for (const agent of agents) {
    const pointerFile = join(agent.dataDirectory, 'models', 'current');
    const pointer = existsSync(pointerFile)
      ? (JSON.parse(readFileSync(pointerFile, 'utf8')) as SlotPointerFile)
      : { current: null };
    const reported = (await api.device(agent.deviceId)).currentModel;
    const current = pointer.current;
    if (current === null) {
      if (reported !== null)
        problems.push(`${agent.name} reports ${reported.modelId}@${reported.version} but runs none`);
      continue;
    }
    if (!readySigned.has(current.sha256))
      problems.push(`${agent.name} runs ${current.sha256}, not a signed ready bundle`);
    const markerFile = join(agent.dataDirectory, 'models', `slot-${current.slot}`, '.installed.json');
    const marker = existsSync(markerFile)
      ? (JSON.parse(readFileSync(markerFile, 'utf8')) as { sha256?: string })
      : {};
    if (marker.sha256 !== current.sha256)
      problems.push(`${agent.name}: slot ${current.slot} is not the verified bundle`);
    if (reported?.modelId !== current.modelId || reported.version !== current.version) {
      problems.push(
        `${agent.name} runs ${current.modelId}@${current.version}, reports ${reported ? `${reported.modelId}@${reported.version}` : 'none'}`,
      );
    }
  }
  return check(
    `running models verified (${agents.length} agents)`,
    problems.length === 0,
    problems.join('; '),
  );
}
