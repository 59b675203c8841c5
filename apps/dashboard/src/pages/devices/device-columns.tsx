import type { ReactNode } from 'react';
import { Link } from 'wouter';
import { OnlineBadge } from '../../components/StatusBadge';
import type { DeviceRow, DeviceSortKey } from '../../lib/device-rows';
import { formatAgo, formatFixed, formatPercent } from '../../lib/format';

export interface DeviceColumn {
  key: DeviceSortKey;
  label: string;
  /** CSS grid track. */
  width: string;
  numeric?: boolean;
  render(row: DeviceRow, now: number): ReactNode;
}

export const DEVICE_COLUMNS: readonly DeviceColumn[] = [
  {
    key: 'name',
    label: 'Name',
    width: 'minmax(150px, 2fr)',
    render: (row) => (
      <Link href={`/devices/${encodeURIComponent(row.id)}`} title={row.id}>
        {row.name}
      </Link>
    ),
  },
  {
    key: 'tags',
    label: 'Tags',
    width: 'minmax(140px, 2fr)',
    render: (row) => <span className="tags">{row.tags}</span>,
  },
  { key: 'online', label: 'Online', width: '84px', render: (row) => <OnlineBadge online={row.online} /> },
  { key: 'model', label: 'Model', width: 'minmax(120px, 1.5fr)', render: (row) => row.model },
  { key: 'fps', label: 'FPS', width: '64px', numeric: true, render: (row) => formatFixed(row.fps) },
  {
    key: 'latencyP95Ms',
    label: 'p95 ms',
    width: '76px',
    numeric: true,
    render: (row) => formatFixed(row.latencyP95Ms),
  },
  {
    key: 'accuracy',
    label: 'Accuracy',
    width: '84px',
    numeric: true,
    render: (row) => formatPercent(row.accuracy),
  },
  {
    key: 'temperatureC',
    label: 'Temp °C',
    width: '76px',
    numeric: true,
    render: (row) => formatFixed(row.temperatureC),
  },
  {
    key: 'lastSeenAt',
    label: 'Last seen',
    width: '104px',
    render: (row, now) =>
      row.lastSeenAt === null ? 'never' : formatAgo(new Date(row.lastSeenAt).toISOString(), now),
  },
];

export const DEVICE_GRID_TEMPLATE = DEVICE_COLUMNS.map((column) => column.width).join(' ');
