/**
 * @jest-environment ../../libs/darknet/test/support/onnxruntime-environment.js
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { AppModule } from '../src/app.module';
import { loadAppConfig } from '../src/config/app-config';
import { type RunningControlPlane, startControlPlane } from '../src/control-plane';
import { DemoAgentsAdapter } from '../src/demo/demo-agents.adapter';
import { DemoModule } from '../src/demo/demo.module';
import { DemoService } from '../src/demo/demo.service';
import { type Infrastructure } from '../src/infra/infrastructure';
import { apiRequest } from './support/api-request';
import { eventually } from './support/eventually';
import { testConfig } from './support/test-environment';

jest.setTimeout(600_000);

/** face-api's seven labels after the bundle's mapping to the paper's four (the other three kept). */
const REPORTED_LABELS = ['neutral', 'Happiness', 'Sadness', 'Anger', 'fearful', 'disgusted', 'Surprise'];

interface DeviceView {
  id: string;
  online: boolean;
  lastSeenAt: string | null;
  simulated: boolean;
  currentModel: { modelId: string; version: string } | null;
  lastTelemetry: { fps: number; modelId: string | null } | null;
}
interface VersionView {
  version: number;
  status: string;
  statusReason: string | null;
  classes: number;
  files: Array<{ role: string }>;
  baseline: { accuracy: number | null; evalSet: { evaluated: number } | null } | null;
}

describe('the npm start demo (embedded services, real agents and detector)', () => {
  const setup = testConfig('embedded');
  const demoDirectory = join(setup.dataDir, 'demo');
  let controlPlane: RunningControlPlane | undefined;

  afterAll(async () => {
    await controlPlane?.close();
    setup.cleanup();
  });

  async function startDemo(): Promise<string[]> {
    controlPlane = await startControlPlane(setup.config, () => undefined);
    const lines: string[] = [];
    await controlPlane.app.get(DemoService).start((line) => lines.push(line));
    return lines;
  }

  const devices = async () =>
    (await apiRequest<{ items: DeviceView[] }>(controlPlane!.httpUrl, 'GET', '/devices')).body.items;

  it('imports face-api, registers the two-stage bundle, and runs three cameras on the demo video', async () => {
    const lines = await startDemo();
    expect(lines.join('\n')).toMatch(
      /reference model's own outputs \(for fidelity checks, not human ground truth\)/,
    );
    expect(existsSync(join(demoDirectory, 'demo.mp4'))).toBe(true);
    expect(statSync(join(demoDirectory, 'devices.json')).mode & 0o777).toBe(0o600);

    const version = await eventually(
      () => apiRequest<VersionView>(controlPlane!.httpUrl, 'GET', '/models/faceapi-expression/versions/1'),
      (response) => response.body.status === 'ready' || response.body.status === 'failed',
      { timeoutMs: 300_000, intervalMs: 1000, what: 'the demo version through the pipeline' },
    );
    expect(version.body.statusReason).toBeNull();
    expect(version.body.classes).toBe(7);
    expect(version.body.files.map((file) => file.role)).toEqual(
      expect.arrayContaining(['classifier-cfg', 'bundle-description', 'eval-set']),
    );
    // The eval set's labels are this model's own answers: the benchmark must reproduce every one of them.
    expect(version.body.baseline?.evalSet?.evaluated).toBe(6);
    expect(version.body.baseline?.accuracy).toBe(1);

    const running = await eventually(
      devices,
      (items) =>
        items.length === 3 &&
        items.every(
          (device) =>
            device.online &&
            device.simulated &&
            device.currentModel?.modelId === 'faceapi-expression' &&
            (device.lastTelemetry?.fps ?? 0) > 0,
        ),
      { timeoutMs: 120_000, intervalMs: 1000, what: 'three cameras running the demo model' },
    );
    expect(running.map((device) => device.lastTelemetry?.modelId)).toEqual([
      'faceapi-expression',
      'faceapi-expression',
      'faceapi-expression',
    ]);
    const events = await eventually(
      () =>
        apiRequest<{ items: Array<{ label: string; deviceId: string }> }>(
          controlPlane!.httpUrl,
          'GET',
          '/events?limit=50',
        ),
      (response) => response.body.items.length >= 3,
      { timeoutMs: 120_000, intervalMs: 1000, what: 'expression events from the cameras' },
    );
    for (const event of events.body.items) expect(REPORTED_LABELS).toContain(event.label);
    expect(events.body.items.some((event) => event.label === 'Happiness')).toBe(true);
  });

  it('reuses the model, the cameras and the files at the next start, and stops the cameras on shutdown', async () => {
    const before = (await devices()).map((device) => device.id).sort();
    const agents = controlPlane!.app.get(DemoAgentsAdapter);
    await controlPlane!.close();
    expect(agents.running).toBe(false);
    const video = statSync(join(demoDirectory, 'demo.mp4')).mtimeMs;
    const secrets = readFileSync(join(demoDirectory, 'devices.json'), 'utf8');

    const restartedAt = Date.now();
    const lines = await startDemo();
    expect(lines.join('\n')).not.toMatch(/eval set|demo video/);
    expect(statSync(join(demoDirectory, 'demo.mp4')).mtimeMs).toBe(video);
    expect(readFileSync(join(demoDirectory, 'devices.json'), 'utf8')).toBe(secrets);
    const versions = await apiRequest<{ items: VersionView[] }>(
      controlPlane!.httpUrl,
      'GET',
      '/models/faceapi-expression/versions',
    );
    expect(versions.body.items.map((item) => item.version)).toEqual([1]);
    const again = await eventually(
      devices,
      (items) =>
        items.filter((device) => device.online && Date.parse(device.lastSeenAt ?? '') > restartedAt)
          .length === 3,
      { timeoutMs: 120_000, intervalMs: 1000, what: 'the same cameras online again' },
    );
    expect(again.map((device) => device.id).sort()).toEqual(before);
  });

  it('is not part of the application with EMOFLEET_DEMO=0 or outside the all role', () => {
    const imports = (environment: Record<string, string>) =>
      AppModule.forRoot(loadAppConfig(environment), {} as Infrastructure).imports ?? [];
    expect(imports({})).toContain(DemoModule);
    expect(imports({ EMOFLEET_DEMO: '0' })).not.toContain(DemoModule);
    expect(imports({ EMOFLEET_ROLE: 'api' })).not.toContain(DemoModule);
    expect(() => loadAppConfig({ EMOFLEET_DEMO: 'yes' })).toThrow(/EMOFLEET_DEMO/);
  });
});
