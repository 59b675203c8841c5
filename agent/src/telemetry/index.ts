export * from './frame-statistics';
export * from './process-usage';
export * from './tegrastats-line';
export * from './tegrastats-monitor';
export * from './telemetry-reporter';
export * from './thermal-zones';
