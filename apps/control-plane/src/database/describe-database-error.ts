/**
 * A database error in one line: the driver's message and SQLSTATE, and the first line of the statement. drizzle's
 * `Failed query` message carries the whole statement and every parameter (thousands of values for a batch), so it
 * is not logged as it is.
 */
export function describeDatabaseError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause: unknown = error.cause;
  if (!(cause instanceof Error)) return error.message.slice(0, 300);
  const code = (cause as { code?: unknown }).code;
  const statement =
    error.message
      .replace(/^Failed query:/, '')
      .split('\n')
      .map((line) => line.trim())
      .find((line) => line.length > 0) ?? '';
  return `${cause.message}${typeof code === 'string' ? ` (SQLSTATE ${code})` : ''} in: ${statement.slice(0, 100)}`;
}
