import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { telemetryMessageSchema, type TelemetryMessage } from '@emofleet/protocol';
import { silentLogger } from '../logger';
import { until } from '../../test/support/wait';
import { FrameStatistics, percentile } from './frame-statistics';
import { TegrastatsMonitor } from './tegrastats-monitor';
import { TelemetryReporter } from './telemetry-reporter';
import { readThermalZones } from './thermal-zones';

describe('FrameStatistics', () => {
  it('computes FPS, dropped frames and nearest-rank latency percentiles per window, then resets', () => {
    let now = 10_000;
    const stats = new FrameStatistics({ wall: () => now, monotonic: () => now });
    for (let i = 1; i <= 100; i += 1) stats.recordInference(i);
    stats.recordDropped(7);
    now += 5000;
    expect(stats.takeWindow()).toEqual({
      windowStart: 10_000,
      windowMs: 5000,
      framesProcessed: 100,
      framesDropped: 7,
      fps: 20,
      latencyMs: { p50: 50, p95: 95, p99: 99 },
    });
    now += 1000;
    expect(stats.takeWindow()).toMatchObject({
      framesProcessed: 0,
      fps: 0,
      latencyMs: null,
      windowStart: 15_000,
    });
  });

  it('measures windows with the monotonic clock: a wall-clock step back or forward keeps every window valid', async () => {
    // An NTP step moves the wall clock only; the monotonic clock goes on at its pace.
    let wall = Date.UTC(2026, 0, 1, 12);
    let monotonic = 500;
    const stats = new FrameStatistics({ wall: () => wall, monotonic: () => monotonic });
    const reporter = new TelemetryReporter({
      deviceId: 'jetson-1',
      channel: { publish: () => Promise.resolve() },
      sources: {
        frames: stats,
        spool: () => ({ depth: 0, droppedTotal: 0 }),
        modelId: () => null,
        accuracy: () => null,
        thermalRoot: null,
      },
      intervalMs: 10_000,
      logger: silentLogger,
    });
    const windowOf = async (frames: number, stepMs: number) => {
      for (let i = 0; i < frames; i += 1) stats.recordInference(20);
      wall += 4000 + stepMs;
      monotonic += 10_000;
      wall += 6000;
      const message = await reporter.buildMessage();
      expect(telemetryMessageSchema.safeParse(message).success).toBe(true);
      return message;
    };
    const back = await windowOf(300, -3_600_000);
    expect(back).toMatchObject({ windowStart: Date.UTC(2026, 0, 1, 12), windowMs: 10_000, fps: 30 });
    const after = await windowOf(150, 0);
    // Stamped by the stepped wall clock at its start, 10 s long by the monotonic clock.
    expect(after).toMatchObject({ windowStart: Date.UTC(2026, 0, 1, 11, 0, 10), windowMs: 10_000, fps: 15 });
    const forward = await windowOf(300, 2 * 3_600_000);
    expect(forward).toMatchObject({ windowMs: 10_000, fps: 30 });
  });

  it('bounds the latency samples it keeps', () => {
    const stats = new FrameStatistics(undefined, 16);
    for (let i = 0; i < 10_000; i += 1) stats.recordInference(5);
    const window = stats.takeWindow();
    expect(window.framesProcessed).toBe(10_000);
    expect(window.latencyMs).toEqual({ p50: 5, p95: 5, p99: 5 });
    expect(percentile([1, 2, 3], 0.99)).toBe(3);
  });
});

describe('thermal zones and telemetry messages', () => {
  let root: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'emofleet-thermal-'));
    const zone = (index: number, type: string, temp: string) => {
      fs.mkdirSync(path.join(root, `thermal_zone${index}`));
      fs.writeFileSync(path.join(root, `thermal_zone${index}`, 'type'), `${type}\n`);
      fs.writeFileSync(path.join(root, `thermal_zone${index}`, 'temp'), `${temp}\n`);
    };
    zone(0, 'CPU-therm', '41500');
    zone(1, 'GPU-therm', '39000');
    zone(2, 'PMIC-Die', 'garbage');
    fs.mkdirSync(path.join(root, 'cooling_device0'));
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('reads /sys/class/thermal-style zones in °C, skipping unreadable ones', async () => {
    expect(await readThermalZones(root)).toEqual({ 'CPU-therm': 41.5, 'GPU-therm': 39 });
    expect(await readThermalZones(path.join(root, 'missing'))).toEqual({});
  });

  it('builds a telemetry message the protocol accepts, from frames, spool, model and thermal zones', async () => {
    const frames = new FrameStatistics();
    frames.recordInference(12);
    frames.recordDropped(3);
    const published: TelemetryMessage[] = [];
    const reporter = new TelemetryReporter({
      deviceId: 'jetson-1',
      channel: { publish: (_kind, message) => Promise.resolve(void published.push(message)) },
      sources: {
        frames,
        spool: () => ({ depth: 4, droppedTotal: 1 }),
        modelId: () => 'model-a',
        accuracy: () => 0.81,
        thermalRoot: root,
      },
      intervalMs: 20,
      logger: silentLogger,
    });
    const message = await reporter.buildMessage();
    expect(telemetryMessageSchema.safeParse(message).success).toBe(true);
    expect(message).toMatchObject({
      framesProcessed: 1,
      framesDropped: 3,
      latencyMs: { p50: 12, p95: 12, p99: 12 },
      temperaturesC: { 'CPU-therm': 41.5 },
      gpu: null,
      modelId: 'model-a',
      accuracy: 0.81,
      spool: { depth: 4, droppedTotal: 1 },
    });
    expect(message.rssBytes).toBeGreaterThan(1_000_000);
    reporter.start();
    try {
      // Every 20 ms; a loaded CI machine may run the timer late, so wait for two publications (at most 5 s).
      await until(() => published.length >= 2, 'two periodic telemetry publications', 5000);
    } finally {
      reporter.stop();
    }
  });

  it('follows a running tegrastats (a stand-in script printing a Nano line) for GPU load and temperatures', async () => {
    const script = path.join(root, 'tegrastats');
    fs.writeFileSync(
      script,
      '#!/bin/sh\nwhile true; do echo "RAM 534/3964MB (lfb 98x4MB) SWAP 5/1982MB (cached 1MB) CPU [16%@204,9%@204,0%@204,0%@204] EMC_FREQ 0%@204 GR3D_FREQ 45%@921 APE 25 PLL@34C CPU@36.5C PMIC@100C GPU@36C AO@39.5C thermal@36.25C"; sleep 0.05; done\n',
      { mode: 0o755 },
    );
    const monitor = new TegrastatsMonitor(silentLogger, script, 50);
    expect(monitor.start()).toBe(true);
    try {
      const deadline = Date.now() + 3000;
      while (monitor.latest === undefined && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      expect(monitor.latest?.gpu?.loadPercent).toBe(45);
      expect(monitor.latest?.temperaturesC.GPU).toBe(36);
    } finally {
      monitor.stop();
    }
    expect(new TegrastatsMonitor(silentLogger, path.join(root, 'absent')).start()).toBe(false);
  });
});
