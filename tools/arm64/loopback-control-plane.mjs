// Starts the built control plane (apps/control-plane/dist/main.js, x86-64, this Node) on 127.0.0.1 with every
// embedded default (PGlite database, aedes MQTT broker with device authentication; Redis found on 6379 or
// started privately), its own data directory, topic prefix and queue prefix, and an admin token.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..', '..');
const MAIN = join(root, 'apps', 'control-plane', 'dist', 'main.js');

export async function startLoopbackControlPlane({ bootTimeoutMs = 120_000 } = {}) {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: npx nx run control-plane:build`);
  const suffix = randomBytes(4).toString('hex');
  const dataDir = mkdtempSync(join(tmpdir(), 'emofleet-smoke-cp-'));
  const adminToken = `emf_smoke_admin_${randomBytes(24).toString('base64url')}`;
  const topicPrefix = `emofleet-smoke-${suffix}/v1`;
  const child = spawn(process.execPath, [MAIN], {
    cwd: root,
    env: {
      ...process.env,
      HOST: '127.0.0.1',
      PORT: '0',
      MQTT_PORT: '0',
      MQTT_TOPIC_PREFIX: topicPrefix,
      QUEUE_PREFIX: `smoke-${suffix}`,
      EMOFLEET_DATA_DIR: dataDir,
      EMOFLEET_ADMIN_TOKEN: adminToken,
      LOG_LEVEL: 'warn',
      // No demo data: the smoke test brings its own models.
      EMOFLEET_DEMO: '0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise((resolveExit) =>
    child.once('exit', (code, signal) => resolveExit(code ?? signal)),
  );
  const httpUrl = await new Promise((resolveUrl, reject) => {
    const timer = setTimeout(
      () =>
        reject(new Error(`the control plane did not report ready within ${bootTimeoutMs} ms:\n${output}`)),
      bootTimeoutMs,
    );
    const onData = (chunk) => {
      output = (output + chunk.toString()).slice(-20_000);
      const match = /ready: API (http:\/\/[^\s,]+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolveUrl(match[1]);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then((status) => {
      clearTimeout(timer);
      reject(new Error(`the control plane exited with ${status} before it was ready:\n${output}`));
    });
  });

  /** An HTTP call as the admin; JSON in and out. */
  async function api(method, path, { body, form } = {}) {
    const response = await fetch(`${httpUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${adminToken}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: form ?? (body === undefined ? undefined : JSON.stringify(body)),
    });
    const text = await response.text();
    let json;
    try {
      json = text.length === 0 ? undefined : JSON.parse(text);
    } catch {
      json = text;
    }
    return { status: response.status, body: json };
  }

  return {
    httpUrl,
    topicPrefix,
    api,
    /** The last 20 000 characters the control plane wrote (for failure reports). */
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
