import {
  chooseBuilder,
  describeClass,
  deviceClassOf,
  isBuilderFor,
  tensorrtMajorMinor,
} from './device-class';

/** Capabilities as a birth message stores them (a TX1 with JetPack 4.6.1). */
function capabilities(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    arch: 'arm64',
    os: { platform: 'linux', release: '4.9.253-tegra' },
    jetpackVersion: '4.6.1-b110',
    tensorrtVersion: '8.2.1.8-1+cuda10.2',
    gpuArch: 'sm_53',
    cpuCores: 4,
    memoryBytes: 4_294_967_296,
    detectorBackends: ['tensorrt'],
    simulated: false,
    engineBuilder: true,
    ...overrides,
  };
}

const TX1_82 = { gpuArch: 'sm_53', tensorrt: '8.2' };

describe('device classes', () => {
  it('reads the class of a device from its capabilities', () => {
    expect(deviceClassOf(capabilities())).toEqual({
      gpuArch: 'sm_53',
      tensorrt: '8.2',
      jetpack: '4.6.1-b110',
    });
    expect(deviceClassOf(capabilities({ gpuArch: undefined }))).toBeNull();
    expect(deviceClassOf(capabilities({ tensorrtVersion: undefined }))).toBeNull();
    expect(deviceClassOf(null)).toBeNull();
    expect(deviceClassOf({ gpuArch: 'sm_53' })).toBeNull();
  });

  it('takes TensorRT versions at major.minor', () => {
    expect(tensorrtMajorMinor('8.2.1.8-1+cuda10.2')).toBe('8.2');
    expect(tensorrtMajorMinor('10.3')).toBe('10.3');
    expect(tensorrtMajorMinor('eight')).toBeUndefined();
  });

  it('needs a builder of exactly the class: arch, TensorRT, and JetPack when the target names one', () => {
    expect(isBuilderFor(capabilities(), TX1_82)).toBe(true);
    expect(isBuilderFor(capabilities({ engineBuilder: undefined }), TX1_82)).toBe(false);
    expect(isBuilderFor(capabilities({ gpuArch: 'sm_62' }), TX1_82)).toBe(false);
    expect(isBuilderFor(capabilities({ tensorrtVersion: '8.0.1' }), TX1_82)).toBe(false);
    expect(isBuilderFor(capabilities(), { ...TX1_82, jetpack: '4.6.1-b110' })).toBe(true);
    expect(isBuilderFor(capabilities(), { ...TX1_82, jetpack: '4.6.2' })).toBe(false);
  });

  it('chooses by id, avoiding the builder whose attempt just failed when another exists', () => {
    const candidates = [
      { id: 'jetson-b', capabilities: capabilities() },
      { id: 'jetson-a', capabilities: capabilities() },
      { id: 'jetson-tx2', capabilities: capabilities({ gpuArch: 'sm_62' }) },
    ];
    expect(chooseBuilder(candidates, TX1_82, null)).toBe('jetson-a');
    expect(chooseBuilder(candidates, TX1_82, 'jetson-a')).toBe('jetson-b');
    expect(chooseBuilder(candidates.slice(1, 2), TX1_82, 'jetson-a')).toBe('jetson-a');
    expect(chooseBuilder(candidates, { gpuArch: 'sm_72', tensorrt: '8.5' }, null)).toBeUndefined();
  });

  it('names a class for people', () => {
    expect(describeClass({ ...TX1_82, jetpack: '4.6.1', precision: 'fp16' })).toBe(
      'sm_53 / TensorRT 8.2 / JetPack 4.6.1 / fp16',
    );
    expect(describeClass({ ...TX1_82, jetpack: null })).toBe('sm_53 / TensorRT 8.2');
  });
});
