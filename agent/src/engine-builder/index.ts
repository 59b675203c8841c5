export * from './builder-command';
export * from './device-class-claim';
export * from './engine-builder';
export * from './engine-upload';
export * from './trtexec-output';
