import { type Scenario } from '../scenario';
import { conclude, installModelOnAgents, withFleet } from '../support/scenario-kit';
import { sleep } from '../support/wait';

/**
 * PostgreSQL is restarted (fast shutdown: open transactions rolled back, every client disconnected; down for
 * 3 s) while event batches are being stored: failed batches are not acknowledged, the devices re-send them.
 */
export const postgresRestart: Scenario = {
  name: 'PostgreSQL restart during ingest',
  run: (context) =>
    withFleet(
      context,
      'postgres',
      { simulatedDevices: 20, simulatedIntervalMs: 100, agents: 2 },
      async (fleet) => {
        await installModelOnAgents(fleet);
        fleet.generateSimulatedEvents();
        await sleep(context.settings.loadMs);
        context.log('postgres: restarting PostgreSQL');
        await fleet.postgres.stopServer('fast');
        await sleep(3000);
        await fleet.postgres.startServer();
        const recoveryMs = await fleet.storedUpTo(fleet.generatedNow(), context.settings.recoveryTimeoutMs);
        await sleep(context.settings.loadMs / 2);
        return conclude(context, fleet, recoveryMs);
      },
    ),
};
