export * from './box-geometry';
export * from './expression-tracker';
