import { filterDeviceRows, sortDeviceRows, toDeviceRow } from './device-rows';
import { deviceFixture } from './fixtures';

const telemetry = (fps: number, p95: number, temperatures: Record<string, number>) => ({
  fps,
  latencyMs: { p50: p95 / 2, p95, p99: p95 * 2 },
  temperaturesC: temperatures,
  accuracy: 0.9,
});

describe('device rows', () => {
  it('reads the latest telemetry window: FPS, p95, hottest zone, accuracy', () => {
    const row = toDeviceRow(deviceFixture({ lastTelemetry: telemetry(11.5, 40, { cpu: 51, gpu: 63.5 }) }));
    expect(row).toMatchObject({
      fps: 11.5,
      latencyP95Ms: 40,
      temperatureC: 63.5,
      accuracy: 0.9,
      model: 'tiny@1',
      tags: 'site=lab',
    });
  });

  it('shows no live figures for an offline device and survives telemetry of another shape', () => {
    expect(toDeviceRow(deviceFixture({ online: false, lastTelemetry: telemetry(9, 10, {}) })).fps).toBeNull();
    const odd = toDeviceRow(
      deviceFixture({ lastTelemetry: { fps: 'fast', latencyMs: null, temperaturesC: 'hot' } }),
    );
    expect(odd).toMatchObject({ fps: null, latencyP95Ms: null, temperatureC: null });
  });

  it('filters by presence and by text in name, id, tags or model', () => {
    const rows = [
      toDeviceRow(deviceFixture({ id: 'a', name: 'door', tags: { site: 'hall' } })),
      toDeviceRow(deviceFixture({ id: 'b', name: 'desk', online: false })),
      toDeviceRow(deviceFixture({ id: 'c', name: 'lift', currentModel: { modelId: 'big', version: '2' } })),
    ];
    expect(filterDeviceRows(rows, { text: 'HALL', online: 'any' }).map((row) => row.id)).toEqual(['a']);
    expect(filterDeviceRows(rows, { text: '', online: 'offline' }).map((row) => row.id)).toEqual(['b']);
    expect(filterDeviceRows(rows, { text: 'big@2', online: 'online' }).map((row) => row.id)).toEqual(['c']);
  });

  it('sorts numbers and text both ways with missing values last, ties by name', () => {
    const rows = [
      toDeviceRow(deviceFixture({ id: 'a', name: 'b-cam', lastTelemetry: telemetry(5, 1, {}) })),
      toDeviceRow(deviceFixture({ id: 'b', name: 'a-cam', lastTelemetry: null })),
      toDeviceRow(deviceFixture({ id: 'c', name: 'c-cam', lastTelemetry: telemetry(12, 1, {}) })),
      toDeviceRow(deviceFixture({ id: 'd', name: 'a-cam2', lastTelemetry: telemetry(5, 1, {}) })),
    ];
    expect(sortDeviceRows(rows, 'fps', 'desc').map((row) => row.id)).toEqual(['c', 'd', 'a', 'b']);
    expect(sortDeviceRows(rows, 'fps', 'asc').map((row) => row.id)).toEqual(['d', 'a', 'c', 'b']);
    expect(sortDeviceRows(rows, 'name', 'desc').map((row) => row.name)).toEqual([
      'c-cam',
      'b-cam',
      'a-cam2',
      'a-cam',
    ]);
  });
});
