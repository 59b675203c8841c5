import { type BenchDatabase } from '../support/bench-database';
import { type LatencySummary, summariseLatencies } from '../support/latency-summary';

/**
 * The moments of a device's install, each read from the control plane's own records and timed from the rollout's
 * creation: the engine started it (`rollout_targets.started_at`), the apply job and the desired state were
 * written (`queued_at`: what the publisher then sends), the device's first report on that job reached the
 * database (it had the notification), the device reported the install done, and the engine counted the device
 * healthy after its gate (`rollout_targets.finished_at`).
 */
export const MILESTONES = ['started', 'issued', 'notified', 'installed', 'healthy'] as const;
export type Milestone = (typeof MILESTONES)[number];

export const MILESTONE_DESCRIPTIONS: Record<Milestone, string> = {
  started: 'started by the rollout engine',
  issued: 'apply job + desired state written',
  notified: "device's first report on the job stored",
  installed: 'install reported done (SUCCEEDED)',
  healthy: 'health gate passed: counted healthy',
};

export interface RolloutTimeline {
  /** The rollout's state when read, and why (when it says). */
  state: string;
  stateReason: string | null;
  /** Seconds from creation to the rollout's end; undefined while it runs. */
  finishedAfterSeconds: number | undefined;
  targets: number;
  /** Targets by their state in the rollout. */
  targetStates: Record<string, number>;
  /** Per milestone: how many devices reached it, and when (milliseconds since the rollout was created). */
  milestones: Record<Milestone, LatencySummary>;
  /** Healthy targets whose registry entry reports the rolled-out model as what they run. */
  healthyRunningTheModel: number;
  /** Device jobs the rollout queued: one per target unless an install was issued twice. */
  jobsQueued: number;
}

interface TargetRow {
  state: string;
  started_ms: number | null;
  issued_ms: number | null;
  notified_ms: number | null;
  installed_ms: number | null;
  healthy_ms: number | null;
  runs_model: boolean;
}

const millisecondsSinceCreation = (column: string) => `extract(epoch from (${column} - r.created_at)) * 1000`;

/** Every target's milestones, read in one statement after (or during) the rollout. */
export async function readRolloutTimeline(
  database: BenchDatabase,
  rolloutId: string,
): Promise<RolloutTimeline> {
  const [rollout] = await database.rows<{
    state: string;
    state_reason: string | null;
    finished_s: number | null;
  }>(
    `select state, state_reason, extract(epoch from (finished_at - created_at)) as finished_s
       from rollouts where id = $1`,
    [rolloutId],
  );
  if (rollout === undefined) throw new Error(`rollout ${rolloutId} is not in the database`);
  const rows = await database.rows<TargetRow>(
    `select t.state,
            ${millisecondsSinceCreation('t.started_at')} as started_ms,
            ${millisecondsSinceCreation('j.queued_at')} as issued_ms,
            ${millisecondsSinceCreation('first_report.at')} as notified_ms,
            case when j.status = 'SUCCEEDED' then ${millisecondsSinceCreation('j.finished_at')} end as installed_ms,
            case when t.state = 'healthy' then ${millisecondsSinceCreation('t.finished_at')} end as healthy_ms,
            coalesce(d.current_model->>'modelId' = t.model->>'modelId'
                     and d.current_model->>'version' = t.model->>'version', false) as runs_model
       from rollout_targets t
       join rollouts r on r.id = t.rollout_id
       join devices d on d.id = t.device_id
       left join device_job_executions j on j.job_id = t.job_id
       left join lateral (
         select min(u.at) as at from device_job_updates u where u.job_id = t.job_id and u.source = 'device'
       ) first_report on true
      where t.rollout_id = $1`,
    [rolloutId],
  );
  const [jobs] = await database.rows<{ queued: string }>(
    'select count(*) as queued from device_job_executions where rollout_id = $1',
    [rolloutId],
  );
  const targetStates: Record<string, number> = {};
  for (const row of rows) targetStates[row.state] = (targetStates[row.state] ?? 0) + 1;
  const column: Record<Milestone, keyof TargetRow> = {
    started: 'started_ms',
    issued: 'issued_ms',
    notified: 'notified_ms',
    installed: 'installed_ms',
    healthy: 'healthy_ms',
  };
  const milestones = Object.fromEntries(
    MILESTONES.map((milestone) => [
      milestone,
      summariseLatencies(
        rows
          .map((row) => row[column[milestone]])
          .filter((ms): ms is number => ms !== null)
          .map(Number),
      ),
    ]),
  ) as Record<Milestone, LatencySummary>;
  return {
    state: rollout.state,
    stateReason: rollout.state_reason,
    finishedAfterSeconds: rollout.finished_s === null ? undefined : Number(rollout.finished_s),
    targets: rows.length,
    targetStates,
    milestones,
    healthyRunningTheModel: rows.filter((row) => row.state === 'healthy' && row.runs_model).length,
    jobsQueued: Number(jobs?.queued ?? 0),
  };
}

/** Targets by state, for the progress lines while the rollout runs. */
export async function countTargetStates(
  database: BenchDatabase,
  rolloutId: string,
): Promise<{ rolloutState: string; targets: Record<string, number> }> {
  const rows = await database.rows<{ rollout_state: string; state: string | null; targets: string }>(
    `select r.state as rollout_state, t.state, count(t.device_id) as targets
       from rollouts r left join rollout_targets t on t.rollout_id = r.id
      where r.id = $1 group by r.state, t.state`,
    [rolloutId],
  );
  const targets: Record<string, number> = {};
  for (const row of rows) if (row.state !== null) targets[row.state] = Number(row.targets);
  return { rolloutState: rows[0]?.rollout_state ?? 'unknown', targets };
}
