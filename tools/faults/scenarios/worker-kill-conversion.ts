import { type Scenario } from '../scenario';
import { conversionOutcome, convertJobStatus, startConversion } from '../support/conversion';
import { check } from '../support/invariants';
import { conclude, installModelOnAgents, withFleet } from '../support/scenario-kit';

/**
 * The worker process is killed with SIGKILL in the middle of a conversion and started again: BullMQ's lock on
 * the job lapses, the new worker takes the stalled job over, and the chain (convert → benchmark → ready) ends
 * once. Devices keep reporting meanwhile (the api is untouched).
 */
export const workerKillDuringConversion: Scenario = {
  name: 'worker kill -9 during a conversion',
  run: (context) =>
    withFleet(context, 'worker-kill', { simulatedDevices: 10, agents: 1 }, async (fleet) => {
      await installModelOnAgents(fleet);
      fleet.generateSimulatedEvents();
      const conversion = await startConversion(fleet, 'killed-worker', 4);
      context.log('worker-kill: kill -9 of the worker mid-conversion');
      await fleet.worker.kill();
      const atKill = await convertJobStatus(fleet, conversion);
      await fleet.worker.startProcess();
      const restarted = Date.now();
      const converted = await conversionOutcome(
        fleet,
        conversion,
        context.settings.recoveryTimeoutMs + 60_000,
      );
      const recoveryMs = Date.now() - restarted;
      const job = await fleet.client.pipelineJob(conversion.convertJobId);
      return conclude(context, fleet, recoveryMs, [
        check('killed mid-conversion', atKill !== 'completed', `convert job ${atKill} at the kill`),
        check('conversion taken over and finished', converted.status === 'ready', converted.reason ?? ''),
        check('convert job completed', job.status === 'completed', `${job.status} ${job.failedReason ?? ''}`),
      ]);
    }),
};
