import { type Scenario } from '../scenario';
import { conclude, installModelOnAgents, withFleet } from '../support/scenario-kit';
import { sleep } from '../support/wait';

/**
 * The broker is restarted (SIGTERM, down for 3 s, started again with its persistence) while simulated devices
 * and agents publish events: every device reconnects, replays from its acknowledgement, and the control plane
 * reconnects and resubscribes.
 */
export const brokerRestart: Scenario = {
  name: 'broker restart under load',
  run: (context) =>
    withFleet(
      context,
      'broker',
      { simulatedDevices: 20, simulatedIntervalMs: 100, agents: 2 },
      async (fleet) => {
        await installModelOnAgents(fleet);
        fleet.generateSimulatedEvents();
        await sleep(context.settings.loadMs);
        context.log('broker: restarting mosquitto');
        await fleet.mosquitto.stopServer();
        await sleep(3000);
        await fleet.mosquitto.startServer();
        const recoveryMs = await fleet.storedUpTo(fleet.generatedNow(), context.settings.recoveryTimeoutMs);
        await sleep(context.settings.loadMs / 2);
        return conclude(context, fleet, recoveryMs);
      },
    ),
};
