export * from './backoff';
export * from './device-connection';
export * from './device-capabilities';
export * from './mqtt-client';
export * from './session-sequence-store';
