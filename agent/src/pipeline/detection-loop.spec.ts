import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SyntheticDetector } from '../detector';
import { silentLogger } from '../logger';
import { SyntheticFrameSource } from '../sources';
import { EventSpool } from '../spool';
import { FrameStatistics } from '../telemetry';
import { ExpressionTracker } from '../tracker';
import { DetectionLoop } from './detection-loop';

describe('DetectionLoop', () => {
  let directory: string;
  let spool: EventSpool;
  beforeEach(() => {
    directory = fs.mkdtempSync(path.join(os.tmpdir(), 'emofleet-loop-'));
    spool = EventSpool.open({
      directory,
      maxBytes: 1 << 20,
      segmentBytes: 1 << 16,
      fsync: { mode: 'every-append' },
      logger: silentLogger,
    });
  });
  afterEach(() => {
    spool.close();
    fs.rmSync(directory, { recursive: true, force: true });
  });

  it('drops stale frames while a slow detector is busy, never queueing, and spools debounced events', async () => {
    const frames = new FrameStatistics();
    const detector = new SyntheticDetector({
      modelId: 'synthetic-1',
      framesPerExpression: 10,
      latencyMs: 25,
    });
    const source = new SyntheticFrameSource(32, 24, 200, 200);
    const loop = new DetectionLoop({
      source,
      detector: () => detector,
      tracker: new ExpressionTracker({ minDurationMs: 0, labelSwitchMs: 0, maxGapMs: 10_000 }),
      spool,
      frames,
      logger: silentLogger,
    });
    loop.start();
    await loop.whenSourceEnded;
    await new Promise((resolve) => setTimeout(resolve, 60));
    await loop.stop();
    const window = frames.takeWindow();
    // 200 frames offered at 200 FPS to a 25 ms detector: most must be dropped, processed + dropped = offered.
    expect(window.framesDropped).toBeGreaterThan(100);
    expect(window.framesProcessed + window.framesDropped).toBe(200);
    expect(window.latencyMs?.p50).toBeGreaterThanOrEqual(20);
    const events = spool.readFrom(1, 1000);
    expect(events.length).toBeGreaterThan(1);
    expect(events.every((e) => e.modelId === 'synthetic-1')).toBe(true);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
  });

  it('counts frames as dropped while no model runs', async () => {
    const frames = new FrameStatistics();
    const loop = new DetectionLoop({
      source: new SyntheticFrameSource(8, 8, 500, 20),
      detector: () => undefined,
      tracker: new ExpressionTracker(),
      spool,
      frames,
      logger: silentLogger,
    });
    loop.start();
    await loop.whenSourceEnded;
    await loop.stop();
    expect(frames.takeWindow()).toMatchObject({ framesProcessed: 0, framesDropped: 20 });
  });
});
