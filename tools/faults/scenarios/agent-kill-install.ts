import { type Scenario } from '../scenario';
import { check } from '../support/invariants';
import { conclude, installModelOnAgents, withFleet } from '../support/scenario-kit';
import { smallModelFiles, uploadReadyModel } from '../support/test-model';
import { waitFor } from '../support/wait';

/**
 * The new model's health check runs the native detector on this many frames (several seconds for the larger
 * model): the install is caught between unpacking and the slot switch.
 */
const HEALTH_CHECK = { warmupFrames: 10, measureFrames: 1500, minFps: 0, minAccuracy: null };

/**
 * An agent running the native detector is killed with SIGKILL while it installs a new model (unpacked into the
 * inactive slot, health check running, before the switch). Restarted, it runs the last good model (never a half-installed slot), the job
 * ends (installed on the retry, or failed with a reason), and no event is lost.
 */
export const agentKillDuringInstall: Scenario = {
  name: 'agent kill -9 during install',
  run: (context) =>
    withFleet(context, 'kill-install', { simulatedDevices: 5, agents: 2 }, async (fleet) => {
      await installModelOnAgents(fleet);
      fleet.generateSimulatedEvents();
      const [agent] = fleet.agents;
      if (agent === undefined) throw new Error('fleet without agent');
      // The native detector, so that the health check takes real inference time.
      await agent.stop();
      fleet.startAgent(agent, { detector: 'native' });
      const next = await uploadReadyModel(
        fleet.client,
        'faults-large',
        smallModelFiles([16, 32, 64, 128], 8),
      );
      const job = await fleet.client.assignModel(agent.deviceId, next.id, { healthCheck: HEALTH_CHECK });
      const installing = await waitFor(
        'the new model being installed',
        () => fleet.client.deviceJob(job.jobId),
        (view) =>
          !['QUEUED', 'IN_PROGRESS'].includes(view.status) ||
          view.statusDetails.step === 'INSTALLING' ||
          view.statusDetails.step === 'HEALTH_CHECK',
        { timeoutMs: 60_000, intervalMs: 20 },
      );
      context.log(`kill-install: kill -9 of ${agent.name} at step ${installing.statusDetails.step ?? '?'}`);
      await agent.kill();
      fleet.startAgent(agent, { detector: 'native' });
      const restarted = Date.now();
      const ended = await fleet.jobEnds(job.jobId, context.settings.recoveryTimeoutMs);
      const recoveryMs = Date.now() - restarted;
      context.log(`kill-install: the install job ended ${ended.status} ${ended.statusDetails.reason ?? ''}`);
      return conclude(context, fleet, recoveryMs, [
        check(
          'killed during the install',
          installing.status === 'IN_PROGRESS',
          `job was ${installing.status} at the kill`,
        ),
        check(
          'install job ended visibly',
          ended.status === 'SUCCEEDED' || (ended.status === 'FAILED' && Boolean(ended.statusDetails.reason)),
          `${ended.status} ${ended.statusDetails.reason ?? ''}`,
        ),
      ]);
    }),
};
