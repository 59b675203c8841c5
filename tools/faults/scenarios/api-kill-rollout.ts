import { type Scenario } from '../scenario';
import { rolloutUnderKill } from '../support/rollout-under-fault';
import { withFleet } from '../support/scenario-kit';

/**
 * The api process (which runs the rollout engine) is killed with SIGKILL in the middle of a rollout to ten
 * devices (two agent processes, eight enrolled simulated devices) and started again: the engine continues
 * from the last committed step and the rollout completes.
 */
export const apiKillDuringRollout: Scenario = {
  name: 'api kill -9 during a rollout',
  run: (context) =>
    withFleet(
      context,
      'api-rollout',
      { simulatedDevices: 8, enrolSimulatedDevices: true, agents: 2 },
      async (fleet) => {
        fleet.generateSimulatedEvents();
        return rolloutUnderKill(context, fleet, (target) => target.api);
      },
    ),
};
