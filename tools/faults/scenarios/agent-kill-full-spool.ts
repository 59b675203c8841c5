import { EventSpool, silentLogger } from '@emofleet/agent';
import { type Scenario } from '../scenario';
import { check } from '../support/invariants';
import { conclude, installModelOnAgents, withFleet } from '../support/scenario-kit';
import { sleep } from '../support/wait';

/** The smallest spool the agent accepts: 8 segments of 8 KiB. */
const SPOOL_MAX_BYTES = 64 * 1024;
/** Events written into the stopped agent's spool: about twice what fits. */
const BACKLOG_EVENTS = 600;

/**
 * An agent cut off from the broker fills its bounded spool, which then drops its oldest events (counting them
 * and keeping them as ranges to declare), and is killed with SIGKILL while full. Restarted and reconnected, it
 * delivers everything the spool still holds and declares the dropped ranges: nothing is lost silently.
 *
 * The synthetic camera makes an event every ~3 s, so the backlog of a long outage is written into the stopped
 * agent's spool with the agent's own `EventSpool` (as its detection loop appends), with the agent's bounds.
 */
export const agentKillWithFullSpool: Scenario = {
  name: 'agent kill -9 with a full spool',
  run: (context) =>
    withFleet(
      context,
      'full-spool',
      {
        simulatedDevices: 5,
        agents: 2,
        agentsBehindProxy: true,
        agentSettings: { spoolMaxBytes: SPOOL_MAX_BYTES },
      },
      async (fleet) => {
        await installModelOnAgents(fleet);
        fleet.generateSimulatedEvents();
        const [agent] = fleet.agents;
        if (agent === undefined) throw new Error('fleet without agent');
        const link = fleet.brokerLinkOf(agent);
        link.partition();
        await sleep(context.settings.loadMs);
        await agent.stop();
        const spool = EventSpool.open({
          directory: agent.spoolDirectory,
          maxBytes: SPOOL_MAX_BYTES,
          segmentBytes: SPOOL_MAX_BYTES / 8,
          fsync: { mode: 'every-append' },
          logger: silentLogger,
        });
        for (let index = 0; index < BACKLOG_EVENTS; index += 1) {
          spool.append({
            label: 'Happiness',
            score: 0.9,
            box: { x: 0.1, y: 0.1, width: 0.2, height: 0.2 },
            startedAt: Date.now() - (BACKLOG_EVENTS - index) * 1000,
            durationMs: 800,
            frameIndex: index,
            modelId: 'backlog',
            trackId: index,
          });
        }
        const droppedBeforeKill = spool.stats.droppedTotal;
        spool.close();
        fleet.startAgent(agent);
        // Running with the full spool: new detections keep pushing the oldest events out.
        await sleep(context.settings.loadMs);
        context.log(
          `full-spool: kill -9 of ${agent.name} with a full spool (${droppedBeforeKill} dropped so far)`,
        );
        await agent.kill();
        fleet.startAgent(agent);
        await sleep(2000);
        link.heal();
        const recoveryMs = await fleet.storedUpTo(fleet.generatedNow(), context.settings.recoveryTimeoutMs);
        const outcome = await conclude(context, fleet, recoveryMs);
        const account = outcome.accounts.find((candidate) => candidate.deviceId === agent.deviceId);
        return {
          ...outcome,
          checks: [
            check(
              'the spool overflowed before the kill',
              droppedBeforeKill > 0,
              `${droppedBeforeKill} dropped`,
            ),
            // Dropped events the control plane had already stored (in flight when the link went) need no declaration.
            check(
              'the overflow was declared to the control plane',
              (account?.declared ?? 0) > 0,
              `${account?.declared ?? 0} declared lost (${account?.declaredLost ?? 0} of them never stored)`,
            ),
            ...outcome.checks,
          ],
        };
      },
    ),
};
