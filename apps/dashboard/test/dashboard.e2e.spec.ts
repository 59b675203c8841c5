import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from 'pg';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { TestApi, waitFor } from './support/api-client';
import { launchChromium, logIn, screenshot } from './support/browser';
import { type ControlPlaneProcess, startControlPlaneProcess } from './support/control-plane-process';
import { type SimulatedFleet, startSimulatedFleet, uploadTinyModel } from './support/test-fleet';

/**
 * The dashboard end to end: the built control plane (serving the built dashboard) against real PostgreSQL and
 * Redis, 24 enrolled simulated agents, and Debian's Chromium driven by playwright-core. Screenshots of every page
 * go to reports/dashboard/.
 */
const SITES = { lab: 16, hall: 8 };
const DEVICES = SITES.lab + SITES.hall;
const MODEL = 'e2e-tiny';
const LAPTOP = { width: 1366, height: 768 };
const PHONE = { width: 390, height: 844 };
const adminToken = `emf_e2e_admin_${randomBytes(24).toString('base64url')}`;
const databaseUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

jest.setTimeout(120_000);

/** An error with its cause (fetch puts the socket error there; it comes from outside jest's realm). */
function explain(error: unknown): string {
  if (typeof error !== 'object' || error === null) return String(error);
  const { stack, message, cause } = error as { stack?: string; message?: string; cause?: unknown };
  const text = stack ?? message ?? JSON.stringify(error);
  return cause === undefined ? text : `${text}\ncaused by ${explain(cause)}`;
}

describe('fleet dashboard', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'emofleet-dashboard-e2e-'));
  const databaseName = `emofleet_dashboard_e2e_${randomBytes(4).toString('hex')}`;
  let controlPlane: ControlPlaneProcess;
  let api: TestApi;
  let fleet: SimulatedFleet;
  let browser: Browser;
  let admin: BrowserContext;
  let page: Page;
  let viewerToken: string;
  let rolloutId: string;

  const database = async (sql: string) => {
    const client = new Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };

  beforeAll(async () => {
    await database(`create database ${databaseName}`);
    const url = new URL(databaseUrl);
    url.pathname = `/${databaseName}`;
    const suffix = randomBytes(4).toString('hex');
    controlPlane = await startControlPlaneProcess({
      HOST: '127.0.0.1',
      PORT: '0',
      MQTT_PORT: '0',
      DATABASE_URL: url.toString(),
      REDIS_URL: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
      QUEUE_PREFIX: `dashboard-e2e-${suffix}`,
      MQTT_TOPIC_PREFIX: `dashboard-e2e-${suffix}/v1`,
      EMOFLEET_DATA_DIR: join(dataDir, 'control-plane'),
      EMOFLEET_ADMIN_TOKEN: adminToken,
      LOG_LEVEL: 'warn',
      // The test brings its own fleet and models (the demo would add its own cameras and model).
      EMOFLEET_DEMO: '0',
    });
    api = new TestApi(controlPlane.url, adminToken);
    try {
      await setUpScene();
    } catch (error) {
      throw new Error(`${explain(error)}\n--- control plane output:\n${controlPlane.output().slice(-5000)}`);
    }
  }, 300_000);

  const setUpScene = async () => {
    viewerToken = (
      await api.expect<{ token: string }>(201, 'POST', '/tokens', { name: 'e2e viewer', role: 'viewer' })
    ).token;
    await uploadTinyModel(api, MODEL);
    fleet = await startSimulatedFleet(api, SITES, join(dataDir, 'devices'));
    browser = await launchChromium();
    admin = await browser.newContext({ viewport: LAPTOP, colorScheme: 'light' });
    page = await admin.newPage();
  };

  afterAll(async () => {
    await browser?.close();
    await fleet?.simulation.stop();
    await controlPlane?.stop();
    await database(`drop database if exists ${databaseName} with (force)`).catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  it('serves the dashboard at / and its assets, and leaves every other path to the API', async () => {
    const index = await fetch(`${controlPlane.url}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toMatch(/^text\/html/);
    expect(index.headers.get('content-security-policy')).toContain("connect-src 'self'");
    const html = await index.text();
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const asset = await fetch(`${controlPlane.url}${script ?? ''}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toContain('immutable');
    // API routes at the root stay the API's: JSON errors, not the page.
    const devices = await fetch(`${controlPlane.url}/devices`, { headers: { accept: 'text/html' } });
    expect(devices.status).toBe(401);
    expect(devices.headers.get('content-type')).toMatch(/^application\/json/);
    const missing = await fetch(`${controlPlane.url}/assets/nothing-here.js`);
    expect(missing.status).toBe(404);
  });

  it('was built against the OpenAPI document the control plane serves (generated types cannot drift)', async () => {
    const served = (await (await fetch(`${controlPlane.url}/docs-json`)).json()) as unknown;
    const generated = JSON.parse(
      readFileSync(resolve(__dirname, '../src/api/generated/openapi.json'), 'utf8'),
    ) as unknown;
    expect(generated).toEqual(served);
  });

  it('refuses a wrong token on the login page with the API’s reason', async () => {
    await page.goto(`${controlPlane.url}/`);
    await page.getByLabel('API token').fill('emf_not_a_real_token');
    await page.getByRole('button', { name: 'Log in' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toMatch(/token/i);
    await screenshot(page, 'login');
  });

  it('logs in as admin and sees every device come online', async () => {
    await logIn(page, controlPlane.url, adminToken);
    await expect(page.getByTestId('session-role').textContent()).resolves.toContain('admin');
    await page.goto(`${controlPlane.url}/#/devices`);
    await page
      .getByTestId('devices-count')
      .filter({ hasText: `${DEVICES} online` })
      .waitFor({ timeout: 60_000 });
    await expect(
      page.locator('[data-testid="device-table"] [role="row"][data-device-id]').count(),
    ).resolves.toBeGreaterThan(0);
    // Filter by presence and text.
    await page.getByTestId('devices-search').fill('hall-');
    await page
      .getByTestId('devices-count')
      .filter({ hasText: `${SITES.hall} of ${DEVICES} devices shown` })
      .waitFor();
    await page.getByTestId('devices-search').fill('');
  });

  it('creates a rollout from a preview of its target devices, pauses, resumes, approves and watches it complete', async () => {
    await page.goto(`${controlPlane.url}/#/rollouts/new`);
    await page.getByTestId('rollout-name').fill('tiny to the lab');
    await page.getByTestId('rollout-model').selectOption(`${MODEL}@1`);
    await page.getByTestId('rollout-selector').fill('site=lab');
    await page.getByTestId('gate-fps-min').fill('1');
    await page.getByTestId('gate-fps-percent').fill('');
    await page.getByLabel('phase 1 size').fill('2');
    await page.getByLabel('phase 1 unit').selectOption('count');
    await page.getByLabel('phase 1 soak seconds').fill('0');
    await page.getByLabel('phase 2 soak seconds').fill('0');
    await page.getByLabel('phase 2 success threshold').fill('100');
    await page.getByLabel('phase 2 approval').selectOption('manual');
    await page.getByTestId('rollout-preview-button').click();
    await expect(page.getByTestId('preview-targets').textContent()).resolves.toBe(String(SITES.lab));
    await screenshot(page, 'rollout-new');

    await page.getByTestId('rollout-create').click();
    await page.waitForURL(/#\/rollouts\/(?!new$)[^/]+$/);
    rolloutId = decodeURIComponent(/#\/rollouts\/([^/]+)$/.exec(page.url())?.[1] ?? '');
    // The canary phase (2 devices) runs on its own; the second phase waits for an operator.
    await page
      .getByTestId('rollout-state')
      .filter({ hasText: 'awaiting-approval' })
      .waitFor({ timeout: 120_000 });
    await expect(page.getByTestId('rollout-phase-1').textContent()).resolves.toMatch(
      /succeeded[\s\S]*healthy 2/,
    );
    await screenshot(page, 'rollout-awaiting-approval');
    await page.getByTestId('rollout-approve').click();
    await page.getByTestId('rollout-pause').click();
    await page.getByTestId('rollout-state').filter({ hasText: 'paused' }).waitFor();
    await screenshot(page, 'rollout-paused');
    await page.getByTestId('rollout-resume').click();
    await page.getByTestId('rollout-state').filter({ hasText: 'completed' }).waitFor({ timeout: 180_000 });
    await expect(page.getByTestId('rollout-counts').textContent()).resolves.toContain(`healthy ${SITES.lab}`);
    await screenshot(page, 'rollout-completed');
    const devices = await api.expect<{
      items: Array<{ tags: Record<string, string>; currentModel: { modelId: string } | null }>;
    }>(200, 'GET', '/devices?limit=500');
    const lab = devices.items.filter((device) => device.tags.site === 'lab');
    expect(lab.every((device) => device.currentModel?.modelId === MODEL)).toBe(true);
  }, 420_000);

  it('shows the fleet with FPS updating once the devices run the model', async () => {
    await page.goto(`${controlPlane.url}/#/`);
    await page
      .getByTestId('stat-online')
      .filter({ hasText: String(DEVICES) })
      .waitFor();
    // "–" until an online device reports FPS, then the mean of the latest windows.
    const fps = await waitFor(
      async () => (await page.getByTestId('stat-fps').textContent()) ?? '',
      (text) => Number(text) > 0,
      'mean FPS on the fleet page',
    );
    expect(Number(fps)).toBeGreaterThan(0);
    await page.getByTestId('fleet-fps-chart').locator('canvas').waitFor({ timeout: 60_000 });
    await page.getByTestId('fps-distribution-chart').locator('canvas').waitFor();
    await page
      .getByTestId('models-in-service')
      .filter({ hasText: `${MODEL}@1` })
      .waitFor();
    await page.getByTestId('event-rate-chart').locator('canvas').waitFor({ timeout: 60_000 });
    await page.getByTestId('fleet-fps-group').selectOption('tag:site');
    await page.getByTestId('fleet-fps-chart').filter({ hasText: 'lab (mean)' }).waitFor({ timeout: 30_000 });
    await screenshot(page, 'fleet');

    await page.goto(`${controlPlane.url}/#/devices`);
    // Highest FPS first (the hall devices run no model and report none).
    await page.getByTestId('sort-fps').click();
    const firstFps = page
      .locator('[data-testid="device-table"] [data-device-id] [data-column="fps"]')
      .first();
    await waitFor(
      async () => Number(await firstFps.textContent()),
      (value) => value > 0,
      'FPS in the devices table',
    );
    await screenshot(page, 'devices');
  }, 180_000);

  it('streams events live with filters and counts them per label', async () => {
    await page.goto(`${controlPlane.url}/#/events`);
    // Events of two labels first, so that the filtered feed cannot be mistaken for the unfiltered one.
    const rows = page.locator('[data-testid="event-feed"] .event-label');
    const before = await waitFor(
      () => rows.allTextContents(),
      (labels) => new Set(labels).size >= 2,
      'events of two labels on the live feed',
    );
    // Filter by the label of an event that arrived (the synthetic detector's labels), then only it arrives. The
    // filter starts a new feed a render after the click: wait for rows of that label alone, not for the counter.
    const label = before[0] ?? '';
    await page.getByTestId('events-label').selectOption(label);
    await page.getByTestId('events-apply').click();
    const shown = await waitFor(
      () => rows.allTextContents(),
      (labels) => labels.length > 0 && labels.every((shownLabel) => shownLabel === label),
      `only ${label} events after the filter`,
    );
    expect(new Set(shown)).toEqual(new Set([label]));
    expect(Number(await page.getByTestId('events-received').textContent())).toBeGreaterThan(0);
    await page.getByTestId('event-counts-chart').locator('canvas').waitFor({ timeout: 60_000 });
    await screenshot(page, 'events');
  }, 180_000);

  it('shows a device with its time series, model history and recent events', async () => {
    const deviceId = fleet.deviceIds[0] ?? '';
    await page.goto(`${controlPlane.url}/#/devices/${encodeURIComponent(deviceId)}`);
    await page
      .getByTestId('device-current-model')
      .filter({ hasText: `${MODEL}@1` })
      .waitFor();
    await page.getByTestId('device-fps-chart').locator('canvas').waitFor({ timeout: 60_000 });
    await page.getByTestId('model-history').filter({ hasText: 'SUCCEEDED'.toLowerCase() }).waitFor();
    await page.getByTestId('device-events').locator('li').first().waitFor({ timeout: 60_000 });
    await screenshot(page, 'device');
  });

  it('shows model versions with lineage, per-layer 1x1 and 3x3 bars, jobs and baselines', async () => {
    await page.goto(`${controlPlane.url}/#/models/${MODEL}`);
    await page.getByTestId('model-versions').filter({ hasText: 'from v1' }).waitFor();
    await page.getByTestId('baseline-chart').locator('canvas').waitFor();
    await screenshot(page, 'model-versions');
    await page.goto(`${controlPlane.url}/#/models/${MODEL}/2`);
    const kinds = page.getByTestId('layer-kinds');
    await kinds.waitFor();
    await expect(kinds.textContent()).resolves.toMatch(/3x3 conv[\s\S]*1x1 conv/);
    await page.getByTestId('layer-params-chart').locator('canvas').waitFor();
    await expect(
      page.getByTestId('pipeline-jobs').getByRole('progressbar').first().getAttribute('aria-valuenow'),
    ).resolves.toBe('100');
    await screenshot(page, 'model-version');
  });

  it('lets a viewer see every page but press no mutating button', async () => {
    const context = await browser.newContext({ viewport: LAPTOP });
    const viewer = await context.newPage();
    await logIn(viewer, controlPlane.url, viewerToken);
    // Each page with the mutating buttons it must show, disabled; every other [data-mutating] must be too.
    const pages: Array<[string, string[]]> = [
      ['#/', []],
      ['#/devices', []],
      [`#/devices/${encodeURIComponent(fleet.deviceIds[0] ?? '')}`, ['device-save', 'device-rollback']],
      ['#/models', []],
      [`#/models/${MODEL}/2`, []],
      ['#/rollouts', ['new-rollout']],
      ['#/rollouts/new', ['rollout-create']],
      [
        `#/rollouts/${encodeURIComponent(rolloutId)}`,
        ['rollout-approve', 'rollout-pause', 'rollout-resume', 'rollout-cancel', 'rollout-abort'],
      ],
      ['#/events', []],
    ];
    for (const [path, expected] of pages) {
      await viewer.goto(`${controlPlane.url}/${path}`);
      await viewer.locator('main h1').first().waitFor();
      for (const testId of expected) {
        const button = viewer.getByTestId(testId);
        await button.waitFor();
        await expect(button.isDisabled()).resolves.toBe(true);
        await expect(button.getAttribute('title')).resolves.toMatch(/needs the operator role/i);
      }
      for (const button of await viewer.locator('[data-mutating="true"]').all())
        expect({ path, disabled: await button.isDisabled() }).toEqual({ path, disabled: true });
    }
    // The API refuses the viewer too (the buttons only keep the page honest).
    const refused = await api.call(
      'POST',
      `/rollouts/${encodeURIComponent(rolloutId)}/pause`,
      {},
      viewerToken,
    );
    expect(refused.status).toBe(403);
    await screenshot(viewer, 'viewer-rollout');
    await context.close();
  }, 120_000);

  it('works on a phone in the dark theme', async () => {
    const context = await browser.newContext({
      viewport: PHONE,
      colorScheme: 'dark',
      isMobile: true,
      hasTouch: true,
    });
    const phone = await context.newPage();
    await logIn(phone, controlPlane.url, adminToken);
    await expect(phone.evaluate(() => document.documentElement.dataset.theme)).resolves.toBe('dark');
    await phone.getByTestId('fleet-fps-chart').locator('canvas').waitFor({ timeout: 60_000 });
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await screenshot(phone, 'fleet-phone-dark');
    await phone.goto(`${controlPlane.url}/#/devices`);
    await phone.getByTestId('device-table').waitFor();
    await screenshot(phone, 'devices-phone-dark');
    await phone.getByTestId('theme-toggle').click();
    await expect(phone.evaluate(() => document.documentElement.dataset.theme)).resolves.toBe('light');
    await context.close();
  });
});
