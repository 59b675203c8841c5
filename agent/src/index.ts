export * from './config';
export * from './connection';
export * from './logger';
export * from './run-agent';
