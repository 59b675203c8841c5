import { useMemo, useState } from 'react';
import { useAllDevices } from '../../api/devices';
import { useFleetSummary } from '../../api/telemetry';
import { QueryState } from '../../components/QueryState';
import { RangePicker } from '../../components/RangePicker';
import { StatCard } from '../../components/StatCard';
import { formatFixed } from '../../lib/format';
import { readTelemetrySnapshot } from '../../lib/telemetry-snapshot';
import { DEFAULT_TIME_RANGE } from '../../lib/time-ranges';
import { ActiveRollouts } from '../rollouts/ActiveRollouts';
import { EventRateChart } from './EventRateChart';
import { FleetFpsChart } from './FleetFpsChart';
import { FpsDistribution } from './FpsDistribution';
import { ModelsInService } from './ModelsInService';

/** The fleet at a glance: presence, FPS over time and across devices, models, rollouts, expressions. */
export function FleetPage() {
  const summary = useFleetSummary();
  const devices = useAllDevices();
  const [range, setRange] = useState(DEFAULT_TIME_RANGE);
  const deviceList = useMemo(() => devices.data ?? [], [devices.data]);
  const tagKeys = useMemo(
    () => [...new Set(deviceList.flatMap((device) => Object.keys(device.tags)))].sort(),
    [deviceList],
  );
  const meanFps = useMemo(() => {
    const fps = deviceList
      .filter((device) => device.online)
      .map((device) => readTelemetrySnapshot(device.lastTelemetry).fps)
      .filter((value): value is number => value !== null);
    return fps.length === 0 ? null : fps.reduce((sum, value) => sum + value, 0) / fps.length;
  }, [deviceList]);

  return (
    <>
      <div className="page-head">
        <h1>Fleet</h1>
        <RangePicker value={range} onChange={setRange} />
      </div>
      <QueryState isPending={summary.isPending} error={summary.error} what="the fleet summary">
        {summary.data && (
          <div className="stats">
            <StatCard label="Devices in service" value={summary.data.devices} testId="stat-devices" />
            <StatCard label="Online" value={summary.data.online} testId="stat-online" />
            <StatCard
              label="Offline"
              value={summary.data.devices - summary.data.online}
              testId="stat-offline"
            />
            <StatCard
              label="Mean FPS now"
              value={formatFixed(meanFps)}
              detail="online devices, latest window"
              testId="stat-fps"
            />
          </div>
        )}
      </QueryState>
      <div className="grid">
        <FleetFpsChart range={range} tagKeys={tagKeys} />
        <FpsDistribution devices={deviceList} />
        {summary.data && <ModelsInService summary={summary.data} />}
        <ActiveRollouts />
        <EventRateChart range={range} />
      </div>
    </>
  );
}
