export * from './event-spool';
export * from './event-publisher';
