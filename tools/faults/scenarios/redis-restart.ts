import { type Scenario } from '../scenario';
import { conversionOutcome, convertJobStatus, startConversion } from '../support/conversion';
import { check } from '../support/invariants';
import { conclude, installModelOnAgents, withFleet } from '../support/scenario-kit';
import { smallModelFiles, uploadReadyModel } from '../support/test-model';
import { sleep } from '../support/wait';

const HEALTH_CHECK = { warmupFrames: 10, measureFrames: 150, minFps: 0, minAccuracy: null };

/**
 * Redis is restarted (SIGTERM, append-only file on as in production; down for 3 s) while jobs are in flight: a
 * conversion running on the worker, model installs on the agents (health check running) with their time-out
 * jobs delayed in BullMQ. The conversion and the installs each finish once.
 */
export const redisRestart: Scenario = {
  name: 'Redis restart with jobs in flight',
  run: (context) =>
    withFleet(context, 'redis', { simulatedDevices: 10, agents: 2 }, async (fleet) => {
      await installModelOnAgents(fleet);
      fleet.generateSimulatedEvents();
      const next = await uploadReadyModel(fleet.client, 'faults', smallModelFiles([8, 16, 32], 2));
      const conversion = await startConversion(fleet, 'redis-converted', 3);
      const installs = await Promise.all(
        fleet.agents.map((agent) =>
          fleet.client.assignModel(agent.deviceId, next.id, {
            healthCheck: HEALTH_CHECK,
            timeoutSeconds: 600,
          }),
        ),
      );
      context.log('redis: restarting redis-server');
      await fleet.redis.stopServer();
      const atRestart = await convertJobStatus(fleet, conversion);
      await sleep(3000);
      await fleet.redis.startServer();
      const restarted = Date.now();
      const converted = await conversionOutcome(fleet, conversion, context.settings.recoveryTimeoutMs);
      const ended = await Promise.all(
        installs.map((job) => fleet.jobEnds(job.jobId, context.settings.recoveryTimeoutMs)),
      );
      const recoveryMs = Date.now() - restarted;
      return conclude(context, fleet, recoveryMs, [
        check('conversion in flight at the restart', atRestart !== 'completed', `convert job ${atRestart}`),
        check(
          'conversion interrupted by the restart finished',
          converted.status === 'ready',
          converted.reason ?? '',
        ),
        check(
          'installs interrupted by the restart succeeded',
          ended.every((job) => job.status === 'SUCCEEDED'),
          ended.map((job) => `${job.deviceId} ${job.status} ${job.statusDetails.reason ?? ''}`).join('; '),
        ),
      ]);
    }),
};
