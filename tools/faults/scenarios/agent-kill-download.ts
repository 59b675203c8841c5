import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type Scenario } from '../scenario';
import { check } from '../support/invariants';
import { conclude, installModelOnAgents, withFleet } from '../support/scenario-kit';
import { smallModelFiles, uploadReadyModel } from '../support/test-model';
import { waitFor } from '../support/wait';

/** Artifact bytes per second through the slow link: the new bundle then takes several seconds. */
const SLOW_LINK_BYTES_PER_SECOND = 40_000;

/**
 * An agent running a model is assigned a new one over a slow link and killed with SIGKILL half-way through the
 * download. Restarted, it runs the last good model, resumes the download with an HTTP Range request (the bytes
 * through the link stay well under twice the bundle), verifies and installs the new model, and its spooled
 * events are all delivered.
 */
export const agentKillDuringDownload: Scenario = {
  name: 'agent kill -9 during download',
  run: (context) =>
    withFleet(
      context,
      'kill-download',
      { simulatedDevices: 5, agents: 2, artifactsBehindProxy: true },
      async (fleet) => {
        await installModelOnAgents(fleet);
        fleet.generateSimulatedEvents();
        const [agent] = fleet.agents;
        const link = fleet.artifactLink;
        if (agent === undefined || link === undefined)
          throw new Error('fleet without agent or artifact link');
        const next = await uploadReadyModel(
          fleet.client,
          'faults-large',
          smallModelFiles([16, 32, 64, 128], 7),
        );
        const bundle = await fleet.postgres.query(
          async (client) =>
            (
              await client.query<{ sha256: string; size_bytes: string }>(
                `select sha256, size_bytes from model_manifests where version_id = $1 and format = 'darknet-bundle'`,
                [next.id],
              )
            ).rows[0],
        );
        if (bundle === undefined) throw new Error('the new version has no signed darknet bundle');
        const size = Number(bundle.size_bytes);
        const partFile = join(agent.dataDirectory, 'downloads', `${bundle.sha256}.part`);
        link.throttleBytesPerSecond = SLOW_LINK_BYTES_PER_SECOND;
        const bytesBefore = link.bytesToClients;
        const job = await fleet.client.assignModel(agent.deviceId, next.id);
        const downloaded = await waitFor(
          'half of the new bundle downloaded',
          () => (existsSync(partFile) ? statSync(partFile).size : 0),
          (bytes) => bytes >= size * 0.4,
          { timeoutMs: 60_000, intervalMs: 20 },
        );
        context.log(`kill-download: kill -9 of ${agent.name} at ${downloaded} of ${size} bytes`);
        await agent.kill();
        fleet.startAgent(agent);
        const restarted = Date.now();
        const ended = await fleet.jobEnds(job.jobId, context.settings.recoveryTimeoutMs);
        const recoveryMs = Date.now() - restarted;
        const transferred = link.bytesToClients - bytesBefore;
        return conclude(context, fleet, recoveryMs, [
          check('killed mid-download', downloaded < size, `${downloaded} of ${size} bytes`),
          check(
            'install finished after the restart',
            ended.status === 'SUCCEEDED',
            `${ended.status} ${ended.statusDetails.reason ?? ''}`,
          ),
          check(
            'download resumed, not restarted',
            transferred < size * 1.5,
            `${transferred} bytes through the link for a ${size}-byte bundle`,
          ),
        ]);
      },
    ),
};
