import { deviceCapabilitiesSchema, type DeviceCapabilities, type EnginePrecision } from '@emofleet/protocol';

/**
 * The class of devices one TensorRT engine serves: a serialized engine runs only on the GPU architecture and
 * the TensorRT `major.minor` it was built with. `jetpack`, when set, narrows the class to one JetPack release.
 */
export interface DeviceClass {
  gpuArch: string;
  /** TensorRT `major.minor`, e.g. `8.2`. */
  tensorrt: string;
  jetpack?: string | null;
}

/** `8.2.1-1+cuda10.2` → `8.2`; undefined when the text does not start with a version. */
export function tensorrtMajorMinor(version: string | undefined): string | undefined {
  const match = version === undefined ? null : /^(\d+)\.(\d+)/.exec(version);
  return match === null ? undefined : `${match[1]}.${match[2]}`;
}

function capabilitiesOf(stored: Record<string, unknown> | null): DeviceCapabilities | undefined {
  const parsed = deviceCapabilitiesSchema.safeParse(stored);
  return parsed.success ? parsed.data : undefined;
}

/**
 * The engine class of a device from the capabilities of its birth message, or null when it reports no GPU
 * arch or no TensorRT (it cannot run engines). For the rollout engine: which engine a device needs.
 */
export function deviceClassOf(stored: Record<string, unknown> | null): Required<DeviceClass> | null {
  const capabilities = capabilitiesOf(stored);
  const tensorrt = tensorrtMajorMinor(capabilities?.tensorrtVersion);
  if (capabilities?.gpuArch === undefined || tensorrt === undefined) return null;
  return { gpuArch: capabilities.gpuArch, tensorrt, jetpack: capabilities.jetpackVersion ?? null };
}

/** Whether a device of class `device` belongs to `target` (the same arch and TensorRT, and JetPack if named). */
export function classMatches(device: Required<DeviceClass>, target: DeviceClass): boolean {
  return (
    device.gpuArch === target.gpuArch &&
    device.tensorrt === target.tensorrt &&
    (target.jetpack === undefined || target.jetpack === null || device.jetpack === target.jetpack)
  );
}

/** Whether the device (its stored capabilities) can build engines for `target`: a builder of exactly the class. */
export function isBuilderFor(stored: Record<string, unknown> | null, target: DeviceClass): boolean {
  const device = deviceClassOf(stored);
  return capabilitiesOf(stored)?.engineBuilder === true && device !== null && classMatches(device, target);
}

/** `sm_53 / TensorRT 8.2 / JetPack 4.6.1 / fp16` */
export function describeClass(target: DeviceClass & { precision?: EnginePrecision }): string {
  return [
    target.gpuArch,
    `TensorRT ${target.tensorrt}`,
    ...(target.jetpack ? [`JetPack ${target.jetpack}`] : []),
    ...(target.precision ? [target.precision] : []),
  ].join(' / ');
}

export interface BuilderCandidate {
  id: string;
  capabilities: Record<string, unknown> | null;
}

/**
 * The builder for `target` among online devices: a device of exactly the class with a builder, by id order,
 * preferring one other than `avoid` (the builder whose attempt just failed) when there is a choice.
 */
export function chooseBuilder(
  candidates: readonly BuilderCandidate[],
  target: DeviceClass,
  avoid: string | null,
): string | undefined {
  const builders = candidates
    .filter((candidate) => isBuilderFor(candidate.capabilities, target))
    .map((candidate) => candidate.id)
    .sort();
  return builders.find((id) => id !== avoid) ?? builders[0];
}
