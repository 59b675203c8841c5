// Measures the agent's footprint on this machine: (1) RSS and CPU of the compiled agent (`run` with the synthetic
// source and detector at 30 FPS, 416x416) from /proc, (2) CPU per frame of the in-process pipeline
// (frame → synthetic detector → tracker → spool), (3) CPU per frame of reading raw frames from a child process
// (gst-launch-1.0 videotestsrc, the GStreamer source's reader). Needs `npx nx build agent`, Mosquitto on
// 127.0.0.1:1883 and gst-launch-1.0.
//   node -r ./agent/test/support/register-ts.js agent/bench/measure-agent.ts
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SyntheticDetector } from '../src/detector';
import { silentLogger } from '../src/logger';
import { DetectionLoop } from '../src/pipeline';
import { GstreamerFrameSource, rawRgbPipelineTail, SyntheticFrameSource } from '../src/sources';
import { EventSpool } from '../src/spool';
import { FrameStatistics } from '../src/telemetry';
import { ExpressionTracker } from '../src/tracker';

const TICKS_PER_SECOND = 100;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function procSample(pid: number): { rssKiB: number; cpuTicks: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return {
    rssKiB: Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]),
    cpuTicks: Number(stat[11]) + Number(stat[12]),
  };
}

async function measureAgentProcess(): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'emofleet-measure-'));
  const child = spawn(
    process.execPath,
    [path.join(__dirname, '../bin/emofleet-agent.js'), 'run', '--source', 'synthetic:', '--fps', '30'],
    {
      env: {
        ...process.env,
        EMOFLEET_DATA_DIR: dataDir,
        EMOFLEET_MQTT_URL: 'mqtt://127.0.0.1:1883',
        EMOFLEET_DEVICE_ID: 'measure-agent',
        EMOFLEET_DEVICE_SECRET: 'x',
        EMOFLEET_TOPIC_PREFIX: `emofleet-bench/measure-${process.pid}/v1`,
        EMOFLEET_DETECTOR: 'synthetic',
      },
      stdio: 'ignore',
    },
  );
  await sleep(8000);
  const first = procSample(child.pid as number);
  await sleep(10_000);
  const second = procSample(child.pid as number);
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
  fs.rmSync(dataDir, { recursive: true, force: true });
  const cpuPercent = ((second.cpuTicks - first.cpuTicks) / TICKS_PER_SECOND / 10) * 100;
  console.log(
    `agent process (no model installed: frames are read and dropped): RSS ${second.rssKiB} KiB, CPU ${cpuPercent.toFixed(1)} % of one core`,
  );
}

async function measurePipeline(): Promise<void> {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'emofleet-measure-spool-'));
  const spool = EventSpool.open({
    directory,
    maxBytes: 64 << 20,
    segmentBytes: 1 << 20,
    fsync: { mode: 'interval', intervalMs: 200 },
    logger: silentLogger,
  });
  const frames = new FrameStatistics();
  const count = 900;
  const loop = new DetectionLoop({
    source: new SyntheticFrameSource(416, 416, 300, count),
    detector: () => new SyntheticDetector({ modelId: 'bench', framesPerExpression: 30 }),
    tracker: new ExpressionTracker({ minDurationMs: 0 }),
    spool,
    frames,
    logger: silentLogger,
  });
  const cpuBefore = process.cpuUsage();
  const started = Date.now();
  loop.start();
  await loop.whenSourceEnded;
  await loop.stop();
  const cpu = process.cpuUsage(cpuBefore);
  const window = frames.takeWindow();
  spool.close();
  fs.rmSync(directory, { recursive: true, force: true });
  const perFrameUs = (cpu.user + cpu.system) / Math.max(1, window.framesProcessed);
  console.log(
    `pipeline 416x416 synthetic: ${window.framesProcessed} frames processed, ${window.framesDropped} dropped in ${Date.now() - started} ms; ` +
      `CPU ${perFrameUs.toFixed(0)} µs per processed frame (frame generation + synthetic detect + tracker + spool)`,
  );
}

async function measurePipedReader(width: number, height: number): Promise<void> {
  const count = 300;
  const source = new GstreamerFrameSource({
    description: 'videotestsrc',
    pipeline: [
      ...['videotestsrc', `num-buffers=${count}`, '!', `video/x-raw,width=${width},height=${height}`, '!'],
      ...rawRgbPipelineTail('software', { width, height }),
    ],
    width,
    height,
  });
  const cpuBefore = process.cpuUsage();
  let frames = 0;
  await new Promise<void>((resolve, reject) =>
    source.start(
      () => (frames += 1),
      (error) => (error === undefined ? resolve() : reject(error)),
    ),
  );
  const cpu = process.cpuUsage(cpuBefore);
  console.log(
    `GStreamer reader ${width}x${height}: ${frames} frames; agent-side CPU ${((cpu.user + cpu.system) / frames).toFixed(0)} µs per frame ` +
      `(pipe reads and frame assembly${(width * 3) % 4 === 0 ? '' : ' and row-padding removal'}; gst-launch-1.0 not counted)`,
  );
}

void (async () => {
  await measurePipeline();
  await measurePipedReader(416, 416);
  await measurePipedReader(415, 415);
  await measureAgentProcess();
})();
