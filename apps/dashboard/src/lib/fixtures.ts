import type { Device, LayerAnalysis, ModelVersionSummary } from '../api/types';

/** Test data in the API's shapes (used by the unit tests of this folder). */
export function deviceFixture(overrides: Partial<Device> = {}): Device {
  return {
    id: 'cam-1-aaaa0001',
    name: 'cam-1',
    tags: { site: 'lab' },
    capabilities: null,
    online: true,
    simulated: true,
    sessionSeq: 1,
    lastSeenAt: '2026-01-01T00:00:00.000Z',
    currentModel: { modelId: 'tiny', version: '1' },
    desiredModel: null,
    lastTelemetry: null,
    lastTelemetryAt: null,
    createdAt: '2026-01-01T00:00:00.000Z',
    decommissionedAt: null,
    ...overrides,
  };
}

export function versionFixture(version: number, parentVersion: number | null): ModelVersionSummary {
  return {
    id: `v${version}`,
    model: 'tiny',
    version,
    status: 'ready',
    statusReason: null,
    parentVersion,
    transforms: [],
    uploadedBy: 'token:test',
    classes: 4,
    inputShape: [3, 416, 416],
    totals: { params: 1, flops: 1 },
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
  };
}

export function layerFixture(
  index: number,
  type: string,
  kernelSize: number | undefined,
  params: number,
): LayerAnalysis {
  return {
    index,
    type,
    output: [1, 1, 1],
    ...(kernelSize === undefined ? {} : { kernelSize }),
    params,
    flops: params * 10,
  };
}
