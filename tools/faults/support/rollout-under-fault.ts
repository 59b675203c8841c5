import { type ScenarioContext, type ScenarioOutcome } from '../scenario';
import { type ControlPlaneProcess } from './control-plane-process';
import { type Fleet } from './fleet';
import { check, type Check } from './invariants';
import { conclude } from './scenario-kit';
import { smallModelFiles, uploadReadyModel } from './test-model';
import { waitFor } from './wait';

const FINAL_ROLLOUT_STATES = new Set(['completed', 'aborted', 'canceled']);
const FINAL_DEVICE_STATES = new Set(['healthy', 'rolled-back', 'rollback-failed', 'skipped']);

/**
 * Rolls a model out to every device of the fleet (phases: one canary, half, all; two installs at a time, a
 * soak in the second phase), kills `victim` with SIGKILL once the rollout is under way (some devices healthy,
 * some not started), starts it again, and checks that the rollout ends in a defined state with every device in
 * a final state, each healthy device running the new model.
 */
export async function rolloutUnderKill(
  context: ScenarioContext,
  fleet: Fleet,
  victim: (fleet: Fleet) => ControlPlaneProcess,
): Promise<ScenarioOutcome> {
  const model = await uploadReadyModel(fleet.client, 'faults-rollout', smallModelFiles([8, 16, 32], 11));
  const rollout = await fleet.client.createRollout({
    name: `${fleet.name} rollout`,
    model: { name: 'faults-rollout', version: model.version },
    selector: Object.entries(fleet.tags)
      .map(([key, value]) => `${key}=${value}`)
      .join(','),
    phases: [{ count: 1 }, { percent: 50, soakSeconds: 5 }, { percent: 100 }],
    gates: { warmupFrames: 5, measureFrames: 30 },
    maxConcurrentInstalls: 2,
    installTimeoutSeconds: 120,
  });
  const underWay = await waitFor(
    'the rollout under way',
    () => fleet.client.rollout(rollout.id),
    (view) =>
      FINAL_ROLLOUT_STATES.has(view.state) ||
      ((view.devices.healthy ?? 0) >= 1 && (view.devices.pending ?? 0) >= 1),
    { timeoutMs: 120_000, intervalMs: 100 },
  );
  const process = victim(fleet);
  context.log(
    `${fleet.name}: kill -9 of the ${process.role} during the rollout (${JSON.stringify(underWay.devices)})`,
  );
  await process.kill();
  const atKill = await fleet.postgres.query(
    async (client) =>
      (
        await client.query<{ device_id: string; state: string; job_id: string | null }>(
          'select device_id, state, job_id from rollout_targets where rollout_id = $1',
          [rollout.id],
        )
      ).rows,
  );
  context.log(
    `${fleet.name}: at the kill: ${atKill.map((row) => `${row.device_id.slice(-12)} ${row.state} job ${row.job_id ?? '-'}`).join('; ')}`,
  );
  await process.startProcess();
  const restarted = Date.now();
  const ended = await waitFor(
    'the rollout in a final state',
    () => fleet.client.rollout(rollout.id),
    (view) => FINAL_ROLLOUT_STATES.has(view.state),
    // Starts decided but not issued before the kill wait for the engine's claim takeover (two minutes).
    { timeoutMs: context.settings.recoveryTimeoutMs + 180_000, intervalMs: 500 },
  );
  const recoveryMs = Date.now() - restarted;
  const notFinal = ended.targets.filter((target) => !FINAL_DEVICE_STATES.has(target.state));
  const runningOther: string[] = [];
  for (const target of ended.targets.filter((candidate) => candidate.state === 'healthy')) {
    const device = await fleet.client.device(target.deviceId);
    if (
      device.currentModel?.modelId !== 'faults-rollout' ||
      device.currentModel.version !== String(model.version)
    )
      runningOther.push(`${target.deviceId} runs ${JSON.stringify(device.currentModel)}`);
  }
  const checks: Check[] = [
    check(
      'killed while the rollout was under way',
      !FINAL_ROLLOUT_STATES.has(underWay.state),
      underWay.state,
    ),
    check(
      'rollout ended in a defined state',
      FINAL_ROLLOUT_STATES.has(ended.state) && notFinal.length === 0,
      `${ended.state} ${ended.stateReason ?? ''}; ${notFinal.map((target) => `${target.deviceId} ${target.state}`).join(', ')}`,
    ),
    check(
      'rollout completed, every device healthy',
      ended.state === 'completed' && ended.targets.every((target) => target.state === 'healthy'),
      ended.targets
        .filter((target) => target.state !== 'healthy')
        .map((target) => `${target.deviceId} ${target.state} ${target.failure?.reason ?? ''}`)
        .join('; '),
    ),
    check('healthy devices run the rolled-out model', runningOther.length === 0, runningOther.join('; ')),
  ];
  return conclude(context, fleet, recoveryMs, checks);
}
