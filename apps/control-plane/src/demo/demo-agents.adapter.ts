import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';

/** What the simulated cameras need: identities, broker, the video and the bundle they run. */
export interface DemoAgentsSettings {
  devicesFile: string;
  mqttUrl: string;
  topicPrefix: string;
  signingKeyFile: string;
  dataDir: string;
  video: string;
  frameWidth: number;
  frameHeight: number;
  fps: number;
  minScore: number;
  bundleArchive: string;
  model: { modelId: string; version: string };
  logFile: string;
}

/** The agent's command line (`emofleet-agent`, agent/dist), resolved through the npm workspace. */
function agentEntryPoint(): string {
  return require.resolve('@emofleet/agent/bin/emofleet-agent.js');
}

/**
 * The demo's simulated cameras: one `emofleet-agent simulate` child process (the real agent code: connection,
 * reconcile, native detector, tracker, spool, telemetry) whose output goes to a log file. Stopped with SIGTERM
 * when the control plane shuts down, before the embedded broker goes.
 */
@Injectable()
export class DemoAgentsAdapter implements OnApplicationShutdown {
  private readonly logger = new Logger(DemoAgentsAdapter.name);
  private child: ChildProcess | undefined;

  start(settings: DemoAgentsSettings): void {
    if (this.child) throw new Error('the demo agents are already running');
    const log = openSync(settings.logFile, 'a');
    const args = [
      agentEntryPoint(),
      'simulate',
      ...['--devices-file', settings.devicesFile],
      ...['--mqtt-url', settings.mqttUrl],
      ...['--topic-prefix', settings.topicPrefix],
      ...['--manifest-public-key-file', settings.signingKeyFile],
      ...['--data-dir', settings.dataDir],
      ...['--detector', 'native'],
      ...['--source', `file:${settings.video}?loop`],
      ...['--frame-size', `${settings.frameWidth}x${settings.frameHeight}`],
      ...['--fps', String(settings.fps)],
      ...['--threads', '1'],
      ...['--min-score', String(settings.minScore)],
      ...['--preinstall-bundle', settings.bundleArchive],
      ...['--preinstall-model', `${settings.model.modelId}@${settings.model.version}`],
      ...['--log-level', 'warn'],
    ];
    const child = spawn(process.execPath, args, { stdio: ['ignore', log, log] });
    closeSync(log);
    this.child = child;
    child.on('exit', (code, signal) => {
      if (this.child === child) {
        this.child = undefined;
        this.logger.error(
          `the demo cameras stopped (exit ${code ?? signal}); their log: ${settings.logFile}`,
        );
      }
    });
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  async onApplicationShutdown(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    await new Promise<void>((resolve) => {
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      child.once('exit', () => {
        clearTimeout(killer);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }
}
