export * from './detection-loop';
