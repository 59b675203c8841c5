import { type ScenarioContext, type ScenarioOutcome } from '../scenario';
import { type DeviceEventAccount, totals } from './event-ledger';
import { Fleet, type FleetOptions } from './fleet';
import { failureReport } from './failure-report';
import { check, type Check, checkDeviceJobs, checkPipelineJobs, checkRunningModels } from './invariants';
import { smallModelFiles, uploadReadyModel } from './test-model';

/** Runs `body` on a fresh fleet and always disposes of it; on failure the fleet's logs are attached. */
export async function withFleet<T>(
  context: ScenarioContext,
  name: string,
  options: FleetOptions,
  body: (fleet: Fleet) => Promise<T>,
): Promise<T> {
  context.log(`${name}: starting the fleet`);
  const fleet = await Fleet.start(context.template, name, options);
  try {
    return await body(fleet);
  } catch (error) {
    context.log(`${name}: failed; what the fleet shows:\n${await failureReport(fleet)}`);
    throw error;
  } finally {
    await fleet.dispose();
  }
}

/** Uploads a small model, waits for the pipeline, and installs it on every agent: they detect from then on. */
export async function installModelOnAgents(fleet: Fleet, seed = 1): Promise<string> {
  const model = await uploadReadyModel(fleet.client, 'faults', smallModelFiles([8, 16, 32], seed));
  const jobs = await fleet.installModel(fleet.agents, model.id);
  const failed = jobs.filter((job) => job.status !== 'SUCCEEDED');
  if (failed.length > 0) {
    throw new Error(
      `model install failed: ${failed.map((job) => `${job.deviceId} ${job.status} ${job.statusDetails.reason ?? ''}`).join('; ')}`,
    );
  }
  return model.id;
}

/** The invariants every scenario ends with, besides the event accounts. */
export async function standardChecks(
  fleet: Fleet,
  accounts: readonly DeviceEventAccount[],
): Promise<Check[]> {
  const sum = totals(accounts);
  return [
    check(
      'no event lost',
      sum.lost === 0,
      accounts
        .filter((a) => a.lost > 0)
        .map((a) => `${a.deviceId}: ${a.lostRanges}`)
        .join('; '),
    ),
    check('no event duplicated', sum.duplicated === 0),
    check('no event beyond the generated seqs', sum.unexpected === 0),
    check('events were generated', sum.generated > 0),
    await checkDeviceJobs(fleet.postgres),
    await checkPipelineJobs(fleet.postgres),
    await checkRunningModels(fleet.postgres, fleet.client, fleet.agents),
  ];
}

/** Finishes the fleet (drain + accounts) and runs the standard checks plus `extra`. */
export async function conclude(
  context: ScenarioContext,
  fleet: Fleet,
  recoveryMs: number | null,
  extra: readonly Check[] = [],
): Promise<ScenarioOutcome> {
  const accounts = await fleet.finish(context.settings.recoveryTimeoutMs);
  for (const account of accounts.filter((candidate) => candidate.lost > 0)) {
    context.log(
      `${fleet.name}: ${account.deviceId} lost ${account.lostRanges}; ${await fleet.describeEventState(account.deviceId)}`,
    );
  }
  return { accounts, recoveryMs, checks: [...extra, ...(await standardChecks(fleet, accounts))] };
}
