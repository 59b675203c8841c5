import { gpuArchSchema, versionStringSchema, type DeviceCapabilities } from '@emofleet/protocol';

/**
 * A device class the agent claims instead of the probed one: FOR TESTS ONLY (`--claim-device-class`). It lets
 * a machine without a Jetson GPU stand in for a builder of a class, together with a builder command that is a
 * test double. A real device never needs it: its class comes from the device tree and the dpkg database.
 */
export interface DeviceClassClaim {
  readonly gpuArch: string;
  readonly tensorrtVersion: string;
  readonly jetpackVersion?: string;
}

export type DeviceClassClaimParse =
  | { readonly ok: true; readonly claim: DeviceClassClaim }
  | { readonly ok: false; readonly problem: string };

const CLAIM_KEYS = ['gpuArch', 'tensorrt', 'jetpack'] as const;

/** Parses `gpuArch=sm_53,tensorrt=8.2.1[,jetpack=4.6.1]`. */
export function parseDeviceClassClaim(text: string): DeviceClassClaimParse {
  const values = new Map<string, string>();
  for (const part of text.split(',')) {
    const [key = '', value = '', ...rest] = part.trim().split('=');
    if (!(CLAIM_KEYS as readonly string[]).includes(key) || value === '' || rest.length > 0) {
      return {
        ok: false,
        problem: `"${part.trim()}" is not one of ${CLAIM_KEYS.map((k) => `${k}=…`).join(', ')}`,
      };
    }
    values.set(key, value);
  }
  const gpuArch = values.get('gpuArch');
  const tensorrtVersion = values.get('tensorrt');
  const jetpackVersion = values.get('jetpack');
  if (gpuArch === undefined || tensorrtVersion === undefined) {
    return { ok: false, problem: 'needs at least gpuArch=… and tensorrt=…' };
  }
  if (!gpuArchSchema.safeParse(gpuArch).success) {
    return { ok: false, problem: `gpuArch "${gpuArch}" must look like sm_53` };
  }
  for (const [name, version] of [
    ['tensorrt', tensorrtVersion],
    ['jetpack', jetpackVersion],
  ] as const) {
    if (version !== undefined && !versionStringSchema.safeParse(version).success) {
      return { ok: false, problem: `${name} "${version}" is not a version such as 8.2.1` };
    }
  }
  return {
    ok: true,
    claim: { gpuArch, tensorrtVersion, ...(jetpackVersion === undefined ? {} : { jetpackVersion }) },
  };
}

/**
 * The capabilities the birth announces: the probed ones, the claimed class over them (tests only), and
 * `engineBuilder: true` when a builder command is available.
 */
export function withEngineBuilderCapabilities(
  probed: DeviceCapabilities,
  builderCommand: string | null,
  claim: DeviceClassClaim | null,
): DeviceCapabilities {
  return {
    ...probed,
    ...(claim === null
      ? {}
      : {
          gpuArch: claim.gpuArch,
          tensorrtVersion: claim.tensorrtVersion,
          ...(claim.jetpackVersion === undefined ? {} : { jetpackVersion: claim.jetpackVersion }),
        }),
    ...(builderCommand === null ? {} : { engineBuilder: true }),
  };
}
