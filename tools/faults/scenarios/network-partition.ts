import { type Scenario } from '../scenario';
import { check } from '../support/invariants';
import { conclude, installModelOnAgents, withFleet } from '../support/scenario-kit';
import { sleep } from '../support/wait';

/**
 * One agent's link to the broker goes silent (a proxy between them stops carrying bytes both ways, without
 * closing anything: packets dropped, as in a real partition) for the partition time while its camera keeps
 * producing events. Its keep-alive (5 s) and the broker's notice; it keeps reconnecting into the void. The other
 * devices are unaffected. After the partition heals, everything it spooled arrives, once.
 */
export const networkPartition: Scenario = {
  name: 'network partition of one agent',
  run: (context) =>
    withFleet(
      context,
      'partition',
      { simulatedDevices: 5, agents: 2, agentsBehindProxy: true, agentSettings: { keepaliveSeconds: 5 } },
      async (fleet) => {
        await installModelOnAgents(fleet);
        fleet.generateSimulatedEvents();
        const [cutOff, other] = fleet.agents;
        if (cutOff === undefined || other === undefined) throw new Error('fleet without two agents');
        await sleep(context.settings.loadMs);
        const before = fleet.generatedNow();
        const otherStoredBefore = (await fleet.client.continuity(other.deviceId)).highestContiguousSeq;
        context.log(`partition: cutting ${cutOff.name} off for ${context.settings.partitionMs / 1000} s`);
        fleet.brokerLinkOf(cutOff).partition();
        await sleep(context.settings.partitionMs);
        const offlineSeen = !(await fleet.client.device(cutOff.deviceId)).online;
        const otherStoredDuring = (await fleet.client.continuity(other.deviceId)).highestContiguousSeq;
        const atHeal = fleet.generatedNow();
        fleet.brokerLinkOf(cutOff).heal();
        const recoveryMs = await fleet.storedUpTo(atHeal, context.settings.recoveryTimeoutMs);
        const generatedDuring = (atHeal.get(cutOff.deviceId) ?? 0) - (before.get(cutOff.deviceId) ?? 0);
        const online = (await fleet.client.device(cutOff.deviceId)).online;
        return conclude(context, fleet, recoveryMs, [
          check('the cut-off agent kept generating events', generatedDuring > 0, `${generatedDuring} events`),
          check(
            'the other agent kept delivering',
            otherStoredDuring > otherStoredBefore,
            `${otherStoredBefore} → ${otherStoredDuring}`,
          ),
          check(
            'the cut-off agent was seen offline, then online',
            context.settings.partitionMs < 15_000 || (offlineSeen && online),
            `offline during: ${offlineSeen}, online after: ${online}`,
          ),
        ]);
      },
    ),
};
