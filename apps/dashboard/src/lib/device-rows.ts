import type { Device } from '../api/types';
import { formatModelRef, formatTags } from './format';
import { readTelemetrySnapshot } from './telemetry-snapshot';

/** One line of the devices table: what is shown, flattened so that sorting and filtering are cheap. */
export interface DeviceRow {
  id: string;
  name: string;
  tags: string;
  online: boolean;
  model: string;
  fps: number | null;
  latencyP95Ms: number | null;
  accuracy: number | null;
  temperatureC: number | null;
  /** ms since the epoch; null: never seen. */
  lastSeenAt: number | null;
  device: Device;
}

export type DeviceSortKey =
  | 'name'
  | 'tags'
  | 'online'
  | 'model'
  | 'fps'
  | 'latencyP95Ms'
  | 'accuracy'
  | 'temperatureC'
  | 'lastSeenAt';
export type SortDirection = 'asc' | 'desc';

export interface DeviceRowFilter {
  /** Matched against name, id, tags and model, case-insensitive. */
  text: string;
  online: 'any' | 'online' | 'offline';
}

export function toDeviceRow(device: Device): DeviceRow {
  const telemetry = readTelemetrySnapshot(device.lastTelemetry);
  return {
    id: device.id,
    name: device.name,
    tags: formatTags(device.tags),
    online: device.online,
    model: formatModelRef(device.currentModel),
    fps: device.online ? telemetry.fps : null,
    latencyP95Ms: device.online ? telemetry.latencyP95Ms : null,
    accuracy: telemetry.accuracy,
    temperatureC: device.online ? telemetry.maxTemperatureC : null,
    lastSeenAt: device.lastSeenAt === null ? null : Date.parse(device.lastSeenAt),
    device,
  };
}

export function filterDeviceRows(rows: readonly DeviceRow[], filter: DeviceRowFilter): DeviceRow[] {
  const needle = filter.text.trim().toLowerCase();
  return rows.filter(
    (row) =>
      (filter.online === 'any' || row.online === (filter.online === 'online')) &&
      (needle === '' ||
        row.name.toLowerCase().includes(needle) ||
        row.id.toLowerCase().includes(needle) ||
        row.tags.toLowerCase().includes(needle) ||
        row.model.toLowerCase().includes(needle)),
  );
}

/** Sorted copy; missing values (null) go last in both directions, ties by name then id. */
export function sortDeviceRows(
  rows: readonly DeviceRow[],
  key: DeviceSortKey,
  direction: SortDirection,
): DeviceRow[] {
  const sign = direction === 'asc' ? 1 : -1;
  return [...rows].sort((a, b) => {
    const left = a[key];
    const right = b[key];
    if (left !== right) {
      if (left === null) return 1;
      if (right === null) return -1;
      const order =
        typeof left === 'string' && typeof right === 'string'
          ? left.localeCompare(right)
          : Number(left) - Number(right);
      if (order !== 0) return order * sign;
    }
    return a.name.localeCompare(b.name) || a.id.localeCompare(b.id);
  });
}
