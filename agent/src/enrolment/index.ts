export * from './enrol-device';
export * from './enrolment-file';
