import { type Scenario } from '../scenario';
import { rolloutUnderKill } from '../support/rollout-under-fault';
import { withFleet } from '../support/scenario-kit';

/**
 * The worker process (device-job time-outs, pipeline, webhooks) is killed with SIGKILL in the middle of a
 * rollout to ten devices and started again: the rollout completes and no job is left hanging.
 */
export const workerKillDuringRollout: Scenario = {
  name: 'worker kill -9 during a rollout',
  run: (context) =>
    withFleet(
      context,
      'worker-rollout',
      { simulatedDevices: 8, enrolSimulatedDevices: true, agents: 2 },
      async (fleet) => {
        fleet.generateSimulatedEvents();
        return rolloutUnderKill(context, fleet, (target) => target.worker);
      },
    ),
};
