// Responsiveness check of the built dashboard with 2,000 devices and 50 events/s. Prints measurements; asserts
// nothing (speed is reported, not tested). The dashboard talks to a synthetic API served here (answers in the
// control plane's shapes, device telemetry changing on every refresh, an SSE stream at the chosen rate), so the
// numbers are the page's own cost, not the control plane's.
//   npm run perf -w @emofleet/dashboard [-- --devices 2000 --events-per-second 50 --seconds 15]
import { createReadStream, existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

const { values: options } = parseArgs({
  options: {
    devices: { type: 'string', default: '2000' },
    'events-per-second': { type: 'string', default: '50' },
    seconds: { type: 'string', default: '15' },
  },
});
const DEVICES = Number(options.devices);
const EVENT_RATE = Number(options['events-per-second']);
const SECONDS = Number(options.seconds);
const DIST = resolve(import.meta.dirname, '../dist');
const CHROMIUM = process.env.EMOFLEET_CHROMIUM ?? '/usr/bin/chromium';
if (!existsSync(join(DIST, 'index.html')))
  throw new Error('build the dashboard first: npx nx build dashboard');

const LABELS = ['Happiness', 'Sadness', 'Surprise', 'Anger'];
const started = Date.now();
const device = (n) => {
  const online = n % 10 !== 0;
  return {
    id: `perf-${String(n).padStart(4, '0')}`,
    name: `camera-${n}`,
    tags: { site: `site-${n % 7}`, camera: n % 2 ? 'usb' : 'csi' },
    capabilities: null,
    online,
    simulated: true,
    sessionSeq: 1,
    lastSeenAt: new Date().toISOString(),
    currentModel: { modelId: 'tiny', version: String(1 + (n % 3)) },
    desiredModel: null,
    lastTelemetry: online
      ? {
          fps: 8 + Math.random() * 6,
          latencyMs: { p50: 40, p95: 50 + Math.random() * 20, p99: 90 },
          temperaturesC: { cpu: 40 + Math.random() * 20 },
          accuracy: 0.9,
          cpuPercent: 50,
        }
      : null,
    lastTelemetryAt: new Date().toISOString(),
    createdAt: new Date(started).toISOString(),
    decommissionedAt: null,
  };
};
const buckets = (count, seconds) =>
  Array.from({ length: count }, (_, i) => new Date(Date.now() - (count - i) * seconds * 1000).toISOString());

let eventId = 0;
const routes = {
  '/tokens/current': () => ({ tokenId: 'tok_perf', name: 'perf', role: 'viewer' }),
  '/devices': (query) => {
    const from = Number(query.get('cursor') ?? 0);
    const limit = Number(query.get('limit') ?? 100);
    const items = Array.from({ length: Math.max(0, Math.min(limit, DEVICES - from)) }, (_, i) =>
      device(from + i + 1),
    );
    return { items, nextCursor: from + limit < DEVICES ? String(from + limit) : null };
  },
  '/fleet/summary': () => ({ devices: DEVICES, online: Math.round(DEVICES * 0.9), byModel: [] }),
  '/telemetry/fleet': () => ({
    bucketSeconds: 10,
    source: 'raw',
    points: buckets(90, 10).map((bucketStart) => ({
      bucketStart,
      group: null,
      devices: DEVICES,
      fpsMean: 10,
      fpsP50: 10,
      fpsP10: 8,
    })),
  }),
  '/events/aggregates': () => ({
    bucketSeconds: 10,
    dimensions: ['label'],
    rows: buckets(90, 10).flatMap((bucketStart) =>
      LABELS.map((label) => ({ bucketStart, keys: { label }, count: 100 })),
    ),
  }),
  '/rollouts': () => ({ items: [], nextCursor: null }),
};

const server = createServer((request, response) => {
  const url = new URL(request.url ?? '/', 'http://localhost');
  if (url.pathname === '/events/stream') {
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const timer = setInterval(() => {
      for (let i = 0; i < EVENT_RATE / 10; i += 1) {
        eventId += 1;
        const event = {
          id: String(eventId),
          deviceId: `perf-${String(1 + (eventId % DEVICES)).padStart(4, '0')}`,
          seq: eventId,
          label: LABELS[eventId % 4],
          score: 0.9,
          box: { x: 0.1, y: 0.1, width: 0.2, height: 0.2 },
          startedAt: new Date().toISOString(),
          durationMs: 1500,
          frameIndex: eventId,
          modelId: 'tiny',
          trackId: 1,
          receivedAt: new Date().toISOString(),
        };
        response.write(`event: emotion-event\nid: ${event.id}\ndata: ${JSON.stringify(event)}\n\n`);
      }
    }, 100);
    request.on('close', () => clearInterval(timer));
    return;
  }
  const route = routes[url.pathname];
  if (route) {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify(route(url.searchParams)));
    return;
  }
  const file = url.pathname === '/' ? join(DIST, 'index.html') : join(DIST, url.pathname);
  if (file.startsWith(DIST) && existsSync(file) && extname(file) !== '') {
    const types = {
      '.html': 'text/html',
      '.js': 'text/javascript',
      '.css': 'text/css',
      '.map': 'application/json',
    };
    response.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' });
    createReadStream(file).pipe(response);
    return;
  }
  response.writeHead(404, { 'content-type': 'application/json' });
  response.end('{"error":{"status":404,"code":"not_found","message":"not in the synthetic API"}}');
});
await new Promise((done) => server.listen(0, '127.0.0.1', done));
const base = `http://127.0.0.1:${server.address().port}`;

/** In the page: frame intervals (rAF) and long tasks (> 50 ms) from now until collect() is called. */
const startSampling = () => {
  window.__perf = { frames: [], longTasks: [], last: performance.now() };
  const tick = (now) => {
    window.__perf.frames.push(now - window.__perf.last);
    window.__perf.last = now;
    window.__perf.raf = requestAnimationFrame(tick);
  };
  window.__perf.raf = requestAnimationFrame(tick);
  window.__perf.observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) window.__perf.longTasks.push(entry.duration);
  });
  window.__perf.observer.observe({ entryTypes: ['longtask'] });
};
const collect = () => {
  cancelAnimationFrame(window.__perf.raf);
  window.__perf.observer.disconnect();
  const frames = [...window.__perf.frames].sort((a, b) => a - b);
  const at = (q) => frames[Math.min(frames.length - 1, Math.floor(q * frames.length))] ?? 0;
  return {
    frames: frames.length,
    frameP50Ms: Number(at(0.5).toFixed(1)),
    frameP95Ms: Number(at(0.95).toFixed(1)),
    frameMaxMs: Number((frames[frames.length - 1] ?? 0).toFixed(1)),
    longTasks: window.__perf.longTasks.length,
    longestTaskMs: Math.round(Math.max(0, ...window.__perf.longTasks)),
  };
};

const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
try {
  const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
  await page.goto(`${base}/`);
  await page.getByLabel('API token').fill('perf');
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByTestId('session-role').waitFor({ state: 'attached' });

  const listStart = Date.now();
  await page.goto(`${base}/#/devices`);
  await page
    .getByTestId('devices-count')
    .filter({ hasText: `${DEVICES} of ${DEVICES} devices shown` })
    .waitFor({ timeout: 60_000 });
  const firstTableMs = Date.now() - listStart;
  const rowsInDom = await page.locator('[data-device-id]').count();
  await page.evaluate(startSampling);
  // Scroll the whole table through, then keep it in view through live refreshes.
  await page.evaluate(
    async (seconds) => {
      const scroller = document.querySelector('.vtable-scroll');
      const end = performance.now() + seconds * 1000;
      while (performance.now() < end) {
        scroller.scrollTop = (scroller.scrollTop + 120) % scroller.scrollHeight;
        await new Promise((next) => requestAnimationFrame(next));
      }
    },
    Math.min(5, SECONDS),
  );
  await page.waitForTimeout(SECONDS * 1000);
  const devicesPage = await page.evaluate(collect);

  await page.goto(`${base}/#/events`);
  await page.getByTestId('event-feed').waitFor({ timeout: 30_000 });
  await page.evaluate(startSampling);
  const receivedBefore = Number(await page.getByTestId('events-received').textContent());
  await page.waitForTimeout(SECONDS * 1000);
  const receivedAfter = Number(await page.getByTestId('events-received').textContent());
  const eventsPage = await page.evaluate(collect);
  const heapMiB = await page.evaluate(() => Math.round((performance.memory?.usedJSHeapSize ?? 0) / 1048576));

  process.stdout.write(
    `${JSON.stringify(
      {
        devices: DEVICES,
        eventsPerSecond: EVENT_RATE,
        secondsEach: SECONDS,
        devicesPage: { firstTableMs, rowsInDom, ...devicesPage },
        eventsPage: {
          eventsShownPerSecond: Number(((receivedAfter - receivedBefore) / SECONDS).toFixed(1)),
          ...eventsPage,
        },
        heapMiB,
      },
      null,
      2,
    )}\n`,
  );
} finally {
  await browser.close();
  server.close();
}
