import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { connectAsync } from 'mqtt';
import { ephemeralPort } from '../../src/infra/free-port';

/** Where Debian's `mosquitto` package installs the dynamic security plugin. */
export const DYNSEC_PLUGIN = '/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so';

const PROVISION_SCRIPT = resolve(
  __dirname,
  '../../../../infra/mosquitto/dynamic-security/provision-control-plane.sh',
);

export interface PrivateMosquitto {
  port: number;
  /** MQTT URL with the control plane's account in it, as MQTT_URL. */
  controlPlaneUrl: string;
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts a private `mosquitto` on a free loopback port with the dynamic security plugin, a fresh admin, and
 * the control plane's account provisioned by infra/mosquitto/dynamic-security/provision-control-plane.sh.
 */
export async function startDynsecMosquitto(topicPrefix: string): Promise<PrivateMosquitto> {
  const directory = mkdtempSync(join(tmpdir(), 'emofleet-mosquitto-'));
  const port = await ephemeralPort();
  const admin = { user: 'dynsec-admin', password: 'admin-password-for-tests' };
  const controlPlane = { user: 'emofleet-control-plane', password: 'control-plane-password-for-tests' };
  const run = promisify(execFile);
  await run('mosquitto_ctrl', ['dynsec', 'init', join(directory, 'dynsec.json'), admin.user, admin.password]);
  writeFileSync(
    join(directory, 'mosquitto.conf'),
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous false',
      `plugin ${DYNSEC_PLUGIN}`,
      `plugin_opt_config_file ${join(directory, 'dynsec.json')}`,
      'persistence false',
      // Started as root, mosquitto would switch to the `mosquitto` user, which cannot read the private directory.
      `user ${userInfo().username}`,
      '',
    ].join('\n'),
  );
  const child = spawn('mosquitto', ['-c', join(directory, 'mosquitto.conf')], { stdio: 'ignore' });
  const stop = async () => {
    await stopChild(child);
    rmSync(directory, { recursive: true, force: true });
  };
  try {
    await waitForBroker(`mqtt://127.0.0.1:${port}`, admin.user, admin.password);
    await run('sh', [PROVISION_SCRIPT], {
      env: {
        ...process.env,
        MQTT_PORT: String(port),
        DYNSEC_ADMIN_USER: admin.user,
        DYNSEC_ADMIN_PASSWORD: admin.password,
        CONTROL_PLANE_USER: controlPlane.user,
        CONTROL_PLANE_PASSWORD: controlPlane.password,
        TOPIC_PREFIX: topicPrefix,
      },
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    controlPlaneUrl: `mqtt://${controlPlane.user}:${controlPlane.password}@127.0.0.1:${port}`,
    stop,
  };
}

export const dynsecPluginInstalled = (): boolean => existsSync(DYNSEC_PLUGIN);

async function waitForBroker(url: string, username: string, password: string): Promise<void> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      const client = await connectAsync(url, {
        username,
        password,
        reconnectPeriod: 0,
        connectTimeout: 1000,
      });
      await client.endAsync();
      return;
    } catch (error) {
      lastError = error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error(`the private mosquitto on ${url} did not accept connections: ${String(lastError)}`);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}
