import { useVirtualizer } from '@tanstack/react-virtual';
import { memo, useRef } from 'react';
import { useNow } from '../../components/useNow';
import type { DeviceRow, DeviceSortKey, SortDirection } from '../../lib/device-rows';
import { DEVICE_COLUMNS, DEVICE_GRID_TEMPLATE } from './device-columns';

const ROW_HEIGHT = 40;

interface DeviceTableProps {
  rows: readonly DeviceRow[];
  sort: { key: DeviceSortKey; direction: SortDirection };
  onSort: (key: DeviceSortKey) => void;
}

/**
 * The devices table, virtualised: only the rows in view (plus a few) are in the DOM, so 2,000 devices scroll
 * as smoothly as 20. A row re-renders only when its device changed (the query keeps unchanged devices as the
 * same objects) or a second passed ("last seen").
 */
export function DeviceTable({ rows, sort, onSort }: DeviceTableProps) {
  const scroller = useRef<HTMLDivElement>(null);
  const now = useNow(1000);
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
    getItemKey: (index) => rows[index]?.id ?? index,
  });

  return (
    <div
      className="vtable"
      role="table"
      aria-label="Devices"
      aria-rowcount={rows.length + 1}
      data-testid="device-table"
    >
      <div ref={scroller} className="vtable-scroll">
        <div className="vtable-header" role="row" style={{ gridTemplateColumns: DEVICE_GRID_TEMPLATE }}>
          {DEVICE_COLUMNS.map((column) => {
            const active = sort.key === column.key;
            return (
              <div
                key={column.key}
                role="columnheader"
                aria-sort={active ? (sort.direction === 'asc' ? 'ascending' : 'descending') : 'none'}
                className={column.numeric ? 'num' : undefined}
              >
                <button
                  type="button"
                  className="sort"
                  onClick={() => onSort(column.key)}
                  data-testid={`sort-${column.key}`}
                >
                  {column.label}
                  <span aria-hidden="true">{active ? (sort.direction === 'asc' ? ' ▲' : ' ▼') : ''}</span>
                </button>
              </div>
            );
          })}
        </div>
        <div className="vtable-body" style={{ height: virtualizer.getTotalSize() }}>
          {virtualizer.getVirtualItems().map((item) => {
            const row = rows[item.index];
            return row === undefined ? null : (
              <DeviceTableRow
                key={item.key}
                row={row}
                top={item.start}
                index={item.index}
                now={row.online ? Math.floor(now / 1000) : 0}
              />
            );
          })}
        </div>
      </div>
    </div>
  );
}

interface DeviceTableRowProps {
  row: DeviceRow;
  top: number;
  index: number;
  /** Whole seconds (0 for offline devices, whose "last seen" is coarse): re-render once a second at most. */
  now: number;
}

const DeviceTableRow = memo(
  function DeviceTableRow({ row, top, index, now }: DeviceTableRowProps) {
    const nowMs = now === 0 ? Date.now() : now * 1000;
    return (
      <div
        className={row.online ? 'vtable-row' : 'vtable-row offline'}
        role="row"
        aria-rowindex={index + 2}
        data-device-id={row.id}
        style={{
          transform: `translateY(${top}px)`,
          gridTemplateColumns: DEVICE_GRID_TEMPLATE,
          height: ROW_HEIGHT,
        }}
      >
        {DEVICE_COLUMNS.map((column) => (
          <div
            key={column.key}
            role="cell"
            className={column.numeric ? 'num' : undefined}
            data-column={column.key}
          >
            {column.render(row, nowMs)}
          </div>
        ))}
      </div>
    );
  },
  (before, after) =>
    before.row.device === after.row.device &&
    before.top === after.top &&
    before.index === after.index &&
    before.now === after.now,
);
