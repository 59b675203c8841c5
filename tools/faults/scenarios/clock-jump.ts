import { type Scenario } from '../scenario';
import { FakeClock } from '../support/fake-clock';
import { check } from '../support/invariants';
import { conclude, installModelOnAgents, withFleet } from '../support/scenario-kit';
import { sleep } from '../support/wait';

const HOUR_SECONDS = 3600;

/**
 * One agent's wall clock jumps (libfaketime; its monotonic clock runs on, as with an NTP step): one hour back
 * while its events wait for an acknowledgement that will not come (the api was killed, so the broker dropped
 * the batches), then two hours forward. The agent must still re-send what was not acknowledged, store nothing
 * twice, its events carry its own (jumped) clock, and no telemetry window is refused for a wrong length.
 */
export const clockJump: Scenario = {
  name: 'clock jump on an agent',
  run: (context) => {
    const clock = FakeClock.create();
    return withFleet(
      context,
      'clock-jump',
      { simulatedDevices: 5, agents: 2, agentSettings: { extraEnv: clock.environment } },
      async (fleet) => {
        await installModelOnAgents(fleet);
        fleet.generateSimulatedEvents();
        await sleep(context.settings.loadMs);
        context.log("clock-jump: kill -9 of the api, then the agents' clocks jump 1 h back");
        await fleet.api.kill();
        // Events detected now are published into the void (no subscriber): they wait for a re-send.
        await sleep(6000);
        clock.setOffsetSeconds(-HOUR_SECONDS);
        await sleep(2000);
        await fleet.api.startProcess();
        const recoveryMs = await fleet.storedUpTo(fleet.generatedNow(), context.settings.recoveryTimeoutMs);
        context.log("clock-jump: the agents' clocks jump 2 h forward");
        clock.setOffsetSeconds(HOUR_SECONDS);
        await sleep(Math.max(context.settings.loadMs, 8000));
        const outcome = await conclude(context, fleet, recoveryMs);
        const times = await fleet.postgres.query(
          async (client) =>
            (
              await client.query<{ behind: string; ahead: string }>(
                `select count(*) filter (where started_at < now() - interval '30 minutes') as behind,
                        count(*) filter (where started_at > now() + interval '30 minutes') as ahead
                   from emotion_events where device_id = any($1)`,
                [fleet.agents.map((agent) => agent.deviceId)],
              )
            ).rows[0],
        );
        // Windows are timed by the monotonic clock (FrameStatistics): none may be refused across the steps, and the
        // ones after the forward step are stamped by the jumped clock.
        const refusedWindows = fleet.agents.filter((agent) =>
          agent.log.includes('telemetry window not published'),
        );
        const telemetryAhead = await fleet.postgres.query(
          async (client) =>
            (
              await client.query<{ ahead: string }>(
                `select count(*) as ahead from telemetry_samples
                  where device_id = any($1) and window_start > now() + interval '30 minutes'`,
                [fleet.agents.map((agent) => agent.deviceId)],
              )
            ).rows[0]?.ahead,
        );
        return {
          ...outcome,
          checks: [
            check(
              'every telemetry window published across the clock steps',
              refusedWindows.length === 0 && Number(telemetryAhead) > 0,
              `${refusedWindows.map((agent) => agent.name).join(', ') || 'no agent'} logged a refused window; ${telemetryAhead ?? 0} windows stamped an hour ahead`,
            ),
            check(
              'events carry the jumped clocks (both directions)',
              Number(times?.behind) > 0 && Number(times?.ahead) > 0,
              `${times?.behind ?? 0} events an hour behind, ${times?.ahead ?? 0} an hour ahead`,
            ),
            ...outcome.checks,
          ],
        };
      },
    ).finally(() => clock.dispose());
  },
};
