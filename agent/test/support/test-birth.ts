import { type BirthContent } from '../../src';

/** Birth content of a simulated test device. */
export const testBirth = (): BirthContent => ({
  agentVersion: '0.1.0',
  capabilities: {
    arch: process.arch,
    os: { platform: process.platform, release: 'test' },
    cpuCores: 1,
    memoryBytes: 1,
    detectorBackends: [],
    simulated: true,
  },
  runningModel: null,
});
