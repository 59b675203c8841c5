import { type Fleet } from './fleet';

/**
 * What a failed scenario's fleet shows, to explain the failure: the api's event counters, the database sessions
 * (a transaction left open or a query waiting on a lock shows here), the simulated devices that are behind and
 * their last warnings, and the tail of every process's output.
 */
export async function failureReport(fleet: Fleet): Promise<string> {
  const counters = await fleet.client
    .metrics()
    .then((text) =>
      text
        .split('\n')
        .filter((line) => line.startsWith('emofleet_event'))
        .join('\n'),
    )
    .catch((error: unknown) => `no metrics: ${String(error)}`);
  const sessions = await fleet.postgres
    .query(async (client) =>
      (
        await client.query<Record<string, unknown>>(
          `select pid, state, wait_event_type, wait_event, now() - xact_start as transaction_age, left(query, 160) as query
             from pg_stat_activity where datname = 'emofleet' and pid <> pg_backend_pid()`,
        )
      ).rows.map((row) => JSON.stringify(row)),
    )
    .catch((error: unknown) => [`no sessions: ${String(error)}`]);
  return [
    `api event counters:\n${counters}`,
    `database sessions:\n${sessions.join('\n')}`,
    ...(fleet.simulated === undefined ? [] : [fleet.simulated.describe()]),
    `api: ${fleet.api.log.slice(-3000)}`,
    `worker: ${fleet.worker.log.slice(-3000)}`,
    ...fleet.agents.map((agent) => `${agent.name}: ${agent.log.slice(-1500)}`),
  ].join('\n');
}
