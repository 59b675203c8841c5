import { type Scenario } from '../scenario';
import { conversionOutcome, convertJobStatus, startConversion } from '../support/conversion';
import { check } from '../support/invariants';
import { conclude, installModelOnAgents, withFleet } from '../support/scenario-kit';
import { sleep } from '../support/wait';

/**
 * The api process is killed with SIGKILL during a conversion (which runs on the worker) and under event load,
 * then started again on the same port: the conversion finishes once, and every event published while the api
 * was gone (its MQTT session was clean, so the broker dropped them) is re-sent by the devices.
 */
export const apiKillDuringConversion: Scenario = {
  name: 'api kill -9 during a conversion',
  run: (context) =>
    withFleet(
      context,
      'api-kill',
      { simulatedDevices: 20, simulatedIntervalMs: 100, agents: 2 },
      async (fleet) => {
        await installModelOnAgents(fleet);
        fleet.generateSimulatedEvents();
        await sleep(context.settings.loadMs / 2);
        const conversion = await startConversion(fleet, 'killed-api', 5);
        context.log('api-kill: kill -9 of the api mid-conversion');
        await fleet.api.kill();
        const atKill = await convertJobStatus(fleet, conversion);
        await sleep(3000);
        await fleet.api.startProcess();
        const recoveryMs = await fleet.storedUpTo(fleet.generatedNow(), context.settings.recoveryTimeoutMs);
        const converted = await conversionOutcome(fleet, conversion, context.settings.recoveryTimeoutMs);
        return conclude(context, fleet, recoveryMs, [
          check('killed mid-conversion', atKill !== 'completed', `convert job ${atKill} at the kill`),
          check(
            'conversion finished despite the api kill',
            converted.status === 'ready',
            converted.reason ?? '',
          ),
        ]);
      },
    ),
};
