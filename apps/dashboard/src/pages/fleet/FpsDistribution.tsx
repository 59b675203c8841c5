import { useMemo } from 'react';
import type { Device } from '../../api/types';
import { BarChart } from '../../charts/BarChart';
import { histogram } from '../../lib/histogram';
import { readTelemetrySnapshot } from '../../lib/telemetry-snapshot';

/** How the online devices' current FPS (latest telemetry window) is spread. */
export function FpsDistribution({ devices }: { devices: readonly Device[] }) {
  const distribution = useMemo(() => {
    const fps = devices
      .filter((device) => device.online)
      .map((device) => readTelemetrySnapshot(device.lastTelemetry).fps)
      .filter((value): value is number => value !== null);
    return { fps, bins: histogram(fps) };
  }, [devices]);
  const { bins } = distribution;
  const bars = useMemo(() => [{ name: 'devices', values: bins.counts }], [bins]);
  return (
    <section className="card" aria-labelledby="fps-distribution-title">
      <h2 id="fps-distribution-title">FPS distribution</h2>
      {distribution.fps.length === 0 ? (
        <p className="muted">No online device has reported telemetry yet.</p>
      ) : (
        <>
          <BarChart
            x={bins.starts}
            bars={bars}
            xLabel="FPS"
            yLabel="devices"
            formatX={(start) => `${start}–${start + bins.binWidth}`}
            formatY={(count) => String(Math.round(count))}
            testId="fps-distribution-chart"
            label="Distribution of the current FPS across online devices"
          />
          <p className="muted small">
            {distribution.fps.length} online devices, latest telemetry window, {bins.binWidth} FPS bins.
          </p>
        </>
      )}
    </section>
  );
}
