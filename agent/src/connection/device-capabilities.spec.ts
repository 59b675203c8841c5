import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { deviceCapabilitiesSchema } from '@emofleet/protocol';
import {
  parseCudaVersion,
  parseInstalledPackages,
  parseL4tRelease,
  parseOsReleaseName,
  probeDeviceCapabilities,
  tegraGpuArch,
} from './device-capabilities';

const DPKG_STATUS = `Package: nvidia-jetpack
Status: install ok installed
Version: 4.6.1-b110

Package: tensorrt
Status: install ok installed
Version: 8.2.1.8-1+cuda10.2

Package: libnvinfer7
Status: deinstall ok config-files
Version: 7.1.3-1+cuda10.2
`;

describe('probeDeviceCapabilities', () => {
  let root: string;
  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'emofleet-rootfs-'));
  });
  afterEach(async () => {
    await fs.rm(root, { recursive: true, force: true });
  });

  async function write(file: string, content: string) {
    await fs.mkdir(path.dirname(path.join(root, file)), { recursive: true });
    await fs.writeFile(path.join(root, file), content);
  }

  it('reads a Jetson TX1 with JetPack 4.6.1', async () => {
    await write('etc/os-release', 'NAME="Ubuntu"\nPRETTY_NAME="Ubuntu 18.04.6 LTS"\n');
    await write('proc/device-tree/model', 'NVIDIA Jetson TX1\0');
    await write('proc/device-tree/compatible', 'nvidia,p2371-2180\0nvidia,jetson-cv\0nvidia,tegra210\0');
    await write(
      'etc/nv_tegra_release',
      '# R32 (release), REVISION: 7.1, GCID: 29689809, BOARD: t210ref, EABI: aarch64\n',
    );
    await write('var/lib/dpkg/status', DPKG_STATUS);
    await write('usr/local/cuda/version.txt', 'CUDA Version 10.2.300\n');
    const capabilities = await probeDeviceCapabilities({
      detectorBackends: ['tensorrt'],
      simulated: false,
      fileSystemRoot: root,
    });
    expect(capabilities).toMatchObject({
      os: { distribution: 'Ubuntu 18.04.6 LTS' },
      jetsonModel: 'NVIDIA Jetson TX1',
      l4tVersion: '32.7.1',
      jetpackVersion: '4.6.1-b110',
      tensorrtVersion: '8.2.1.8-1+cuda10.2',
      cudaVersion: '10.2.300',
      gpuArch: 'sm_53',
      detectorBackends: ['tensorrt'],
      simulated: false,
    });
    expect(capabilities.cpuCores).toBeGreaterThanOrEqual(1);
    expect(deviceCapabilitiesSchema.safeParse(capabilities).success).toBe(true);
  });

  it('leaves the Jetson fields out on an ordinary Linux box', async () => {
    await write('etc/os-release', 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n');
    await write('proc/device-tree/model', 'Raspberry Pi 4 Model B\0');
    await write('proc/device-tree/compatible', 'raspberrypi,4-model-b\0brcm,bcm2711\0');
    const capabilities = await probeDeviceCapabilities({
      detectorBackends: [],
      simulated: true,
      fileSystemRoot: root,
    });
    expect(Object.keys(capabilities).sort()).toEqual(
      ['arch', 'cpuCores', 'detectorBackends', 'memoryBytes', 'os', 'simulated'].sort(),
    );
    expect(deviceCapabilitiesSchema.safeParse(capabilities).success).toBe(true);
  });

  it('drops values the birth schema would refuse instead of failing', async () => {
    await write('etc/os-release', `PRETTY_NAME="${'x'.repeat(300)}"\n`);
    await write(
      'var/lib/dpkg/status',
      'Package: tensorrt\nStatus: install ok installed\nVersion: 8 with spaces\n',
    );
    const capabilities = await probeDeviceCapabilities({
      detectorBackends: [],
      simulated: false,
      fileSystemRoot: root,
    });
    expect(capabilities.os.distribution).toBeUndefined();
    expect(capabilities.tensorrtVersion).toBeUndefined();
    expect(deviceCapabilitiesSchema.safeParse(capabilities).success).toBe(true);
  });
});

describe('capability parsers', () => {
  it('maps Jetson SoCs to their GPU arch', () => {
    expect(tegraGpuArch('nvidia,p3450-0000\0nvidia,jetson-nano\0nvidia,tegra210\0')).toBe('sm_53');
    expect(tegraGpuArch('nvidia,p3310-1000\0nvidia,tegra186\0')).toBe('sm_62');
    expect(tegraGpuArch('nvidia,p3509-0000+p3668-0001\0nvidia,tegra194\0')).toBe('sm_72');
    expect(tegraGpuArch('nvidia,p3737-0000+p3701-0000\0nvidia,tegra234\0')).toBe('sm_87');
    expect(tegraGpuArch('brcm,bcm2711\0')).toBeUndefined();
  });

  it('parses os-release names with and without quotes', () => {
    expect(parseOsReleaseName('PRETTY_NAME=Alpine\n')).toBe('Alpine');
    expect(parseOsReleaseName('NAME=x\n')).toBeUndefined();
  });

  it('parses L4T releases', () => {
    expect(parseL4tRelease('# R28 (release), REVISION: 2.1, GCID: 1')).toBe('28.2.1');
    expect(parseL4tRelease('garbage')).toBeUndefined();
  });

  it('keeps only installed dpkg packages', () => {
    expect([...parseInstalledPackages(DPKG_STATUS)]).toEqual([
      ['nvidia-jetpack', '4.6.1-b110'],
      ['tensorrt', '8.2.1.8-1+cuda10.2'],
    ]);
  });

  it('prefers version.json over version.txt for CUDA', () => {
    expect(parseCudaVersion('CUDA Version 10.2.89', '{"cuda":{"name":"CUDA SDK","version":"11.4.19"}}')).toBe(
      '11.4.19',
    );
    expect(parseCudaVersion('CUDA Version 10.2.89', 'not json')).toBe('10.2.89');
    expect(parseCudaVersion(undefined, undefined)).toBeUndefined();
  });
});
