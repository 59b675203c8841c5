export * from './detector-adapter';
export * from './synthetic-detector';
export * from './native-detector-adapter';
