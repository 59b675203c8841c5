export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;

export type LogLevel = (typeof LOG_LEVELS)[number];

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

/**
 * One JSON object per line on stdout (journald and `docker logs` keep them as they are): time, level, message and
 * the structured fields. Errors are reduced to their message so that nothing secret in a stack leaks.
 */
export function createJsonLogger(
  minimumLevel: LogLevel,
  write: (line: string) => void = (line) => process.stdout.write(line),
): Logger {
  const threshold = LOG_LEVELS.indexOf(minimumLevel);
  const log =
    (level: LogLevel) =>
    (message: string, fields: LogFields = {}) => {
      if (LOG_LEVELS.indexOf(level) < threshold) return;
      const safeFields = Object.fromEntries(
        Object.entries(fields).map(([key, value]) => [key, value instanceof Error ? value.message : value]),
      );
      write(`${JSON.stringify({ time: new Date().toISOString(), level, message, ...safeFields })}\n`);
    };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

/** A logger that drops everything (tests, library use). */
export const silentLogger: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
