import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { deviceCapabilitiesSchema, type DeviceCapabilities } from '@emofleet/protocol';

export interface CapabilityProbeOptions {
  readonly detectorBackends: readonly string[];
  readonly simulated: boolean;
  /** Root of the file system to inspect; tests point it at a fixture tree. */
  readonly fileSystemRoot?: string;
}

/** dpkg packages whose version is the JetPack / TensorRT version, in order of preference. */
const JETPACK_PACKAGES = ['nvidia-jetpack', 'nvidia-l4t-jetpack'];
const TENSORRT_PACKAGES = ['tensorrt', 'libnvinfer8', 'libnvinfer7', 'libnvinfer10'];

/**
 * What this machine offers, for the birth message: architecture, OS, CPU and memory from Node, and on a Jetson
 * the board model (device tree), the L4T release (/etc/nv_tegra_release), JetPack and TensorRT versions (dpkg
 * database) and the CUDA version (/usr/local/cuda). Missing files simply leave the optional fields out; a value
 * that would not pass the birth schema is left out too, so probing never stops the agent.
 */
export async function probeDeviceCapabilities(options: CapabilityProbeOptions): Promise<DeviceCapabilities> {
  const root = options.fileSystemRoot ?? '/';
  const read = (file: string) => readOptional(path.join(root, file));
  const [
    osRelease,
    deviceTreeModel,
    tegraRelease,
    dpkgStatus,
    cudaVersionText,
    cudaVersionJson,
    deviceTreeCompatible,
  ] = await Promise.all([
    read('etc/os-release'),
    read('proc/device-tree/model'),
    read('etc/nv_tegra_release'),
    read('var/lib/dpkg/status'),
    read('usr/local/cuda/version.txt'),
    read('usr/local/cuda/version.json'),
    read('proc/device-tree/compatible'),
  ]);
  const packages = dpkgStatus === undefined ? new Map<string, string>() : parseInstalledPackages(dpkgStatus);
  const jetsonModel = deviceTreeModel?.replace(/\0/g, '').trim();
  const candidate: DeviceCapabilities = {
    arch: process.arch,
    os: {
      platform: process.platform,
      release: os.release(),
      distribution: osRelease === undefined ? undefined : parseOsReleaseName(osRelease),
    },
    jetsonModel: jetsonModel !== undefined && /jetson/i.test(jetsonModel) ? jetsonModel : undefined,
    l4tVersion: tegraRelease === undefined ? undefined : parseL4tRelease(tegraRelease),
    jetpackVersion: firstPackageVersion(packages, JETPACK_PACKAGES),
    tensorrtVersion: firstPackageVersion(packages, TENSORRT_PACKAGES),
    cudaVersion: parseCudaVersion(cudaVersionText, cudaVersionJson),
    gpuArch: deviceTreeCompatible === undefined ? undefined : tegraGpuArch(deviceTreeCompatible),
    cpuCores: Math.max(1, os.cpus().length),
    memoryBytes: os.totalmem(),
    detectorBackends: [...options.detectorBackends],
    simulated: options.simulated,
  };
  return dropInvalidOptionalFields(candidate);
}

async function readOptional(file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** `PRETTY_NAME="Ubuntu 18.04.6 LTS"` → `Ubuntu 18.04.6 LTS`. */
export function parseOsReleaseName(text: string): string | undefined {
  const match = /^PRETTY_NAME=(?:"([^"]*)"|(\S*))$/m.exec(text);
  const name = match?.[1] ?? match?.[2];
  return name === undefined || name.length === 0 ? undefined : name;
}

/** `# R32 (release), REVISION: 7.1, GCID: ...` → `32.7.1`. */
export function parseL4tRelease(text: string): string | undefined {
  const match = /#\s*R(\d+)\s*\(release\),\s*REVISION:\s*([\d.]+)/.exec(text);
  return match === null ? undefined : `${match[1]}.${match[2]}`;
}

/** Installed packages and their versions from a dpkg status database. */
export function parseInstalledPackages(status: string): Map<string, string> {
  const installed = new Map<string, string>();
  for (const stanza of status.split(/\n\s*\n/)) {
    const field = (name: string) => new RegExp(`^${name}: (.*)$`, 'm').exec(stanza)?.[1]?.trim();
    const name = field('Package');
    const version = field('Version');
    if (name !== undefined && version !== undefined && field('Status')?.endsWith(' installed') === true) {
      installed.set(name, version);
    }
  }
  return installed;
}

function firstPackageVersion(packages: Map<string, string>, names: readonly string[]): string | undefined {
  for (const name of names) {
    const version = packages.get(name);
    if (version !== undefined) return version.replace(/^\d+:/, '');
  }
  return undefined;
}

/** CUDA architecture of each Jetson SoC, by its device-tree `compatible` name (the GPU is part of the SoC). */
const TEGRA_GPU_ARCH: Readonly<Record<string, string>> = {
  'nvidia,tegra210': 'sm_53', // TX1, Nano
  'nvidia,tegra186': 'sm_62', // TX2
  'nvidia,tegra194': 'sm_72', // Xavier NX, AGX Xavier
  'nvidia,tegra234': 'sm_87', // Orin
};

/** `/proc/device-tree/compatible` (NUL-separated names, e.g. `nvidia,jetson-nano\0nvidia,tegra210`) → `sm_53`. */
export function tegraGpuArch(compatible: string): string | undefined {
  for (const name of compatible.split('\0')) {
    const arch = TEGRA_GPU_ARCH[name.trim()];
    if (arch !== undefined) return arch;
  }
  return undefined;
}

/** `CUDA Version 10.2.300` (version.txt, CUDA <= 11.0) or `{"cuda": {"version": "11.4.19"}}` (version.json). */
export function parseCudaVersion(versionText?: string, versionJson?: string): string | undefined {
  if (versionJson !== undefined) {
    try {
      const version = (JSON.parse(versionJson) as { cuda?: { version?: unknown } }).cuda?.version;
      if (typeof version === 'string') return version;
    } catch {
      // Fall back to version.txt.
    }
  }
  return versionText === undefined ? undefined : /CUDA Version\s+([\d.]+)/.exec(versionText)?.[1];
}

function dropInvalidOptionalFields(candidate: DeviceCapabilities): DeviceCapabilities {
  const optionalFields = [
    'jetsonModel',
    'l4tVersion',
    'jetpackVersion',
    'tensorrtVersion',
    'cudaVersion',
    'gpuArch',
  ] as const;
  const result: DeviceCapabilities = { ...candidate, os: { ...candidate.os } };
  if (!deviceCapabilitiesSchema.shape.os.safeParse(result.os).success) delete result.os.distribution;
  for (const field of optionalFields) {
    if (
      result[field] === undefined ||
      !deviceCapabilitiesSchema.shape[field].safeParse(result[field]).success
    ) {
      delete result[field];
    }
  }
  return result;
}
