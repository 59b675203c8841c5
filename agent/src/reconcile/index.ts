export * from './artifact-download';
export * from './free-disk-space';
export * from './health-check';
export * from './job-execution-reporter';
export * from './model-bundle';
export * from './model-loader';
export * from './model-reconciler';
