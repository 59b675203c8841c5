import { type Scenario } from '../scenario';
import { check } from '../support/invariants';
import { conclude, installModelOnAgents, withFleet } from '../support/scenario-kit';
import { SmallFilesystem } from '../support/small-filesystem';
import { sleep, waitFor } from '../support/wait';

/**
 * An agent's spool directory is on a 1 MiB tmpfs that is filled up completely while the agent is cut
 * off from the broker, so its spool hits ENOSPC (a real full disk, not the spool's own size bound). The disk is
 * then freed and the link healed. The events the tracker makes meanwhile keep their seqs in the spool's memory
 * buffer and are written once the disk has room: everything arrives, nothing is lost or declared lost, and the
 * agent keeps spooling and delivering new events afterwards.
 */
export const diskFullSpool: Scenario = {
  name: 'disk-full spool',
  run: (context) =>
    withFleet(
      context,
      'disk-full',
      { simulatedDevices: 5, agents: 2, agentsBehindProxy: true },
      async (fleet) => {
        await installModelOnAgents(fleet);
        fleet.generateSimulatedEvents();
        const [agent] = fleet.agents;
        if (agent === undefined) throw new Error('fleet without agent');
        await agent.stop();
        const disk = SmallFilesystem.mountOver(agent.spoolDirectory, 1024 * 1024);
        try {
          fleet.brokerLinkOf(agent).partition();
          disk.fill(0);
          fleet.startAgent(agent);
          const full = await waitFor(
            'the spool hitting the full disk',
            () => agent.log,
            (log) => log.includes('ENOSPC'),
            // The segment's last page may take a few more events (one every ~3 s) before a new page is needed.
            { timeoutMs: 120_000, intervalMs: 200 },
          );
          context.log('disk-full: the spool hit ENOSPC; running on with the full disk');
          await sleep(context.settings.loadMs);
          disk.free();
          // The spool retries every second: the events it kept in memory (with their seqs) reach the disk.
          const written = await waitFor(
            'the spool writing the events it kept in memory',
            () => /event spool writable again[^\n]*"eventsWritten":(\d+)/.exec(agent.log)?.[1],
            (count) => count !== undefined,
            { timeoutMs: 30_000, intervalMs: 200 },
          );
          const kept = Number(written);
          context.log(`disk-full: disk freed; ${kept} events kept in memory meanwhile were written`);
          await sleep(context.settings.loadMs);
          fleet.brokerLinkOf(agent).heal();
          const recoveryMs = await fleet.storedUpTo(fleet.generatedNow(), context.settings.recoveryTimeoutMs);
          const afterRecovery = fleet.generatedNow().get(agent.deviceId) ?? 0;
          // The synthetic camera makes an event every ~3 s.
          await sleep(Math.max(context.settings.loadMs, 8000));
          const outcome = await conclude(context, fleet, recoveryMs);
          const account = outcome.accounts.find((candidate) => candidate.deviceId === agent.deviceId);
          return {
            ...outcome,
            checks: [
              check('the spool hit a full disk', full.includes('ENOSPC'), 'ENOSPC logged'),
              check(
                'events made while the disk was full were kept, then written and delivered (none declared lost)',
                kept > 0 && account?.declaredLost === 0 && !agent.log.includes('detection loop failed'),
                `${kept} kept in memory, ${account?.declaredLost ?? '?'} declared lost`,
              ),
              check(
                'the agent spooled new events after the disk was freed',
                (account?.generated ?? 0) > afterRecovery,
                `${afterRecovery} → ${account?.generated ?? 0}`,
              ),
              ...outcome.checks,
            ],
          };
        } finally {
          await agent.stop();
          disk.unmount();
        }
      },
    ),
};
