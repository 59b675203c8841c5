import { AsyncLocalStorage } from 'node:async_hooks';
import { type DatabaseTimeouts, loadAppConfig } from '../config/app-config';

/** The limits used when no configuration is given: the configuration's defaults. */
export const DEFAULT_DATABASE_TIMEOUTS: DatabaseTimeouts = loadAppConfig({}).databaseTimeouts;

/** The limits in force for one statement, and the configuration key that sets each. */
export interface TimeoutLimits {
  statementMs: number;
  statementKey: string;
  queryMs: number;
  queryKey: string;
}

export const limitsOf = (timeouts: DatabaseTimeouts): TimeoutLimits => ({
  statementMs: timeouts.statementMs,
  statementKey: 'DATABASE_STATEMENT_TIMEOUT_MS',
  queryMs: timeouts.queryMs,
  queryKey: 'DATABASE_QUERY_TIMEOUT_MS',
});

/**
 * A maintenance transaction's limits: the statement limit raised with `SET LOCAL`, and the client's wait raised
 * by as much. Both name the maintenance key, which is the one to raise.
 */
export const maintenanceLimitsOf = (timeouts: DatabaseTimeouts): TimeoutLimits => ({
  statementMs: timeouts.maintenanceStatementMs,
  statementKey: 'DATABASE_MAINTENANCE_STATEMENT_TIMEOUT_MS',
  queryMs: timeouts.maintenanceStatementMs + (timeouts.queryMs - timeouts.statementMs),
  queryKey: 'DATABASE_MAINTENANCE_STATEMENT_TIMEOUT_MS',
});

/**
 * A statement PostgreSQL cancelled at its `statement_timeout` (`kind: 'statement'`, SQLSTATE 57014), or one the
 * client stopped waiting for at its `query_timeout` (`kind: 'query'`: the server or the network stopped
 * answering; that connection is closed). Drizzle hands it on as the `cause` of its `DrizzleQueryError`:
 * `findDatabaseTimeout` finds it.
 */
export class DatabaseTimeoutError extends Error {
  readonly code: string | undefined;

  constructor(
    readonly kind: 'statement' | 'query',
    readonly limitMs: number,
    readonly configKey: string,
    original: Error,
  ) {
    super(
      kind === 'statement'
        ? `statement cancelled by PostgreSQL after its statement_timeout of ${limitMs} ms ` +
            `(configured by ${configKey}): ${original.message}`
        : `no answer from PostgreSQL within the query_timeout of ${limitMs} ms (configured by ${configKey}); ` +
            `the connection was closed: ${original.message}`,
      { cause: original },
    );
    this.name = 'DatabaseTimeoutError';
    this.code = (original as { code?: string }).code;
  }
}

/** The `DatabaseTimeoutError` in `error`'s cause chain, if there is one. */
export function findDatabaseTimeout(error: unknown): DatabaseTimeoutError | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 10; depth++) {
    if (current instanceof DatabaseTimeoutError) return current;
    current = current.cause;
  }
  return undefined;
}

/** The limits of the maintenance transaction the current code runs in, if any (see `withLimits`). */
const scopedLimits = new AsyncLocalStorage<TimeoutLimits>();

/** Runs `work` with other limits for every statement it issues (`queryMs` applied per query). */
export const withLimits = <T>(limits: TimeoutLimits, work: () => Promise<T>): Promise<T> =>
  scopedLimits.run(limits, work);

/** What this file needs of a node-postgres client. */
interface QueryingClient {
  query: (...args: unknown[]) => unknown;
  end(): Promise<void>;
}

type Callback = (error: Error | null | undefined, result?: unknown) => void;

/**
 * Wraps `client.query` so that a timeout becomes a `DatabaseTimeoutError` naming its limit and configuration
 * key, a client-side timeout closes the connection (its statement may still run; the pool replaces it), and a
 * statement issued inside `withLimits` waits as long as that scope allows. Every other error passes unchanged.
 */
export function explainTimeouts(client: QueryingClient, defaults: TimeoutLimits): void {
  const query = client.query.bind(client);
  client.query = (config: unknown, values?: unknown, callback?: unknown): unknown => {
    const limits = scopedLimits.getStore() ?? defaults;
    let request = config;
    if (limits !== defaults && !isSubmittable(config)) {
      request =
        typeof config === 'string'
          ? { text: config, query_timeout: limits.queryMs }
          : { ...(config as object), query_timeout: limits.queryMs };
    }
    const explain = (error: Error): Error => {
      if (error.message === 'Query read timeout') {
        void client.end().catch(() => undefined);
        return new DatabaseTimeoutError('query', limits.queryMs, limits.queryKey, error);
      }
      if ((error as { code?: string }).code === '57014' && /statement timeout/.test(error.message))
        return new DatabaseTimeoutError('statement', limits.statementMs, limits.statementKey, error);
      return error;
    };
    const done = (typeof values === 'function' ? values : callback) as Callback | undefined;
    if (typeof done === 'function') {
      const explained: Callback = (error, result) => done(error ? explain(error) : error, result);
      return typeof values === 'function' ? query(request, explained) : query(request, values, explained);
    }
    const result = query(request, values);
    if (isSubmittable(config) || !(result instanceof Promise)) return result;
    return result.catch((error: Error) => {
      throw explain(error);
    });
  };
}

const isSubmittable = (config: unknown): boolean =>
  typeof config === 'object' &&
  config !== null &&
  typeof (config as { submit?: unknown }).submit === 'function';
