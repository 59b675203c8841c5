/** The worker's queue deleting events past EVENT_RETENTION_DAYS, and its hourly job. */
export const EVENT_RETENTION_QUEUE = 'event-retention';
export const EVENT_RETENTION_JOB = 'delete-expired-events';
export const EVENT_RETENTION_EVERY_MS = 3_600_000;
/** Rows per delete statement, so retention never holds long locks on the events table. */
export const EVENT_RETENTION_BATCH = 10_000;
