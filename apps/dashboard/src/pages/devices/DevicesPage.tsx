import { useDeferredValue, useMemo, useState } from 'react';
import { useAllDevices } from '../../api/devices';
import { QueryState } from '../../components/QueryState';
import { useNow } from '../../components/useNow';
import {
  type DeviceRowFilter,
  type DeviceSortKey,
  filterDeviceRows,
  type SortDirection,
  sortDeviceRows,
  toDeviceRow,
} from '../../lib/device-rows';
import { formatAgo } from '../../lib/format';
import { DeviceTable } from './DeviceTable';

/** Every device: sortable, filterable, refreshed live (every 5 s) unless paused. */
export function DevicesPage() {
  const [tagSelector, setTagSelector] = useState('');
  const [appliedTags, setAppliedTags] = useState('');
  const [live, setLive] = useState(true);
  const devices = useAllDevices(appliedTags === '' ? {} : { tags: appliedTags }, live);
  const [filter, setFilter] = useState<DeviceRowFilter>({ text: '', online: 'any' });
  const [model, setModel] = useState('');
  const [sort, setSort] = useState<{ key: DeviceSortKey; direction: SortDirection }>({
    key: 'name',
    direction: 'asc',
  });
  const deferredFilter = useDeferredValue(filter);
  const now = useNow(1000);

  const allRows = useMemo(() => (devices.data ?? []).map(toDeviceRow), [devices.data]);
  const models = useMemo(() => [...new Set(allRows.map((row) => row.model))].sort(), [allRows]);
  const rows = useMemo(
    () =>
      sortDeviceRows(
        filterDeviceRows(allRows, deferredFilter).filter((row) => model === '' || row.model === model),
        sort.key,
        sort.direction,
      ),
    [allRows, deferredFilter, model, sort],
  );
  const online = allRows.filter((row) => row.online).length;

  const toggleSort = (key: DeviceSortKey) =>
    setSort((current) =>
      current.key === key
        ? { key, direction: current.direction === 'asc' ? 'desc' : 'asc' }
        : { key, direction: key === 'name' || key === 'tags' || key === 'model' ? 'asc' : 'desc' },
    );

  return (
    <>
      <div className="page-head">
        <h1>Devices</h1>
        <label className="checkbox">
          <input
            type="checkbox"
            checked={live}
            onChange={(event) => setLive(event.target.checked)}
            data-testid="devices-live"
          />
          Live updates
        </label>
      </div>
      <form
        className="filters"
        onSubmit={(event) => {
          event.preventDefault();
          setAppliedTags(tagSelector.trim());
        }}
      >
        <label className="field">
          <span>Search</span>
          <input
            type="search"
            placeholder="name, id, tag, model"
            value={filter.text}
            onChange={(event) => setFilter({ ...filter, text: event.target.value })}
            data-testid="devices-search"
          />
        </label>
        <label className="field">
          <span>Presence</span>
          <select
            value={filter.online}
            onChange={(event) =>
              setFilter({ ...filter, online: event.target.value as DeviceRowFilter['online'] })
            }
            data-testid="devices-presence"
          >
            <option value="any">all</option>
            <option value="online">online</option>
            <option value="offline">offline</option>
          </select>
        </label>
        <label className="field">
          <span>Model</span>
          <select value={model} onChange={(event) => setModel(event.target.value)}>
            <option value="">all</option>
            {models.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span>Tag selector</span>
          <input
            placeholder="site=lab,camera!=csi"
            value={tagSelector}
            onChange={(event) => setTagSelector(event.target.value)}
            onBlur={() => setAppliedTags(tagSelector.trim())}
            data-testid="devices-tags"
          />
        </label>
      </form>
      <QueryState isPending={devices.isPending} error={devices.error} what="devices">
        <p className="muted small" data-testid="devices-count">
          {rows.length} of {allRows.length} devices shown · {online} online · updated{' '}
          {formatAgo(new Date(devices.dataUpdatedAt).toISOString(), now)}
          {live ? '' : ' (paused)'}
        </p>
        <DeviceTable rows={rows} sort={sort} onSort={toggleSort} />
      </QueryState>
    </>
  );
}
