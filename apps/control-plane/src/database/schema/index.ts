/**
 * The one schema for both PostgreSQL and embedded PGlite, one file per domain. After a change, run
 * `npm run db:generate -w @emofleet/control-plane -- --name <what-changed>` to write the next SQL migration.
 */
export * from './devices';
export * from './device-credentials';
export * from './api-tokens';
export * from './audit-log';
export * from './enrolment-tokens';
export * from './models';
export * from './pipeline';
export * from './engine-builds';
export * from './events';
export * from './telemetry';
export * from './webhooks';
export * from './device-jobs';
export * from './rollouts';
