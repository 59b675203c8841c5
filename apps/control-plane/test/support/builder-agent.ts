import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { apiRequest } from './api-request';
import { type Enrolment, enrolDevice } from './enrolment';
import { eventually } from './eventually';
import { uniqueSuffix } from './test-environment';

const AGENT_MAIN = resolve(__dirname, '../../../../agent/dist/main.js');
/** No device here has TensorRT: builders run agent/'s trtexec TEST DOUBLE, which writes a fake engine. */
export const TRTEXEC_DOUBLE = resolve(__dirname, '../../../../agent/test/support/trtexec-test-double.sh');

export interface BuilderAgent {
  deviceId: string;
  /** The device's enrolment (its secret authenticates it to the API). */
  enrolment: Enrolment;
  process: ChildProcess;
  /** Kills the agent's process group (a builder still running the double goes with it) and its data. */
  stop(): void;
}

export interface BuilderAgentOptions {
  /** Reaches the builder command (the double's EMOFLEET_TRTEXEC_DOUBLE_*). */
  environment?: Record<string, string>;
  /** The agent's `--engine-builder` command: the trtexec TEST DOUBLE unless given (e.g. a wrapper around it). */
  command?: string;
}

/**
 * Enrols a device and runs the real agent (agent/dist) as an engine builder that claims `deviceClass`
 * (`--claim-device-class`, a test-only override) with the trtexec TEST DOUBLE as its builder command; resolves
 * once the control plane sees it online as a builder.
 */
export async function startBuilderAgent(
  httpUrl: string,
  name: string,
  deviceClass: string,
  { environment = {}, command = TRTEXEC_DOUBLE }: BuilderAgentOptions = {},
): Promise<BuilderAgent> {
  const enrolment = await enrolDevice(httpUrl, `${name}-${uniqueSuffix()}`);
  const dataDir = mkdtempSync(join(tmpdir(), 'emofleet-builder-'));
  // The enrolment record pins the manifest key, with which the agent verifies signed build orders.
  writeFileSync(
    join(dataDir, 'enrolment.json'),
    JSON.stringify({ ...enrolment, server: httpUrl, enrolledAt: Date.now() }),
    { mode: 0o600 },
  );
  const agent = spawn(
    process.execPath,
    [
      ...[AGENT_MAIN, 'run', '--data-dir', dataDir, '--detector', 'synthetic', '--log-level', 'warn'],
      ...['--engine-builder', command, '--claim-device-class', deviceClass],
    ],
    { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, ...environment }, detached: true },
  );
  const stop = () => {
    if (agent.exitCode === null && agent.signalCode === null && agent.pid) {
      try {
        process.kill(-agent.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await eventually(
      () =>
        apiRequest<{ online: boolean; capabilities: { engineBuilder?: boolean } | null }>(
          httpUrl,
          'GET',
          `/devices/${enrolment.deviceId}`,
        ),
      (device) => device.body.online && device.body.capabilities?.engineBuilder === true,
      { timeoutMs: 15_000, what: `${name} online as an engine builder` },
    );
  } catch (error) {
    stop();
    throw error;
  }
  return { deviceId: enrolment.deviceId, enrolment, process: agent, stop };
}
