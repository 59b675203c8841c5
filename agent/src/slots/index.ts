export * from './atomic-json-file';
export * from './slot-store';
