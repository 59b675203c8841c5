import { ConfigError, loadAppConfig } from './config/app-config';
import { type RunningControlPlane, startControlPlane } from './control-plane';
import { DemoService } from './demo/demo.service';

async function main(): Promise<void> {
  const config = loadAppConfig();
  const controlPlane = await startControlPlane(config, (line) => process.stdout.write(`[boot] ${line}\n`));
  process.stdout.write(
    `[boot] emofleet control plane (${config.role}) ready: API ${controlPlane.httpUrl}, ` +
      `OpenAPI ${controlPlane.httpUrl}/docs, health ${controlPlane.httpUrl}/health\n`,
  );
  if (config.role === 'all' && config.demo) startDemo(controlPlane);
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`[shutdown] ${signal}: draining MQTT, closing queues and the database\n`);
    const timer = setTimeout(() => {
      process.stderr.write(`[shutdown] still busy after ${config.shutdownTimeoutMs} ms; exiting\n`);
      process.exit(1);
    }, config.shutdownTimeoutMs);
    timer.unref();
    controlPlane.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`[shutdown] ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

/**
 * The face-api demo (README "The demo"): prepared and started in the background, so the API serves at once. A
 * failure stops only the demo; the control plane keeps running. EMOFLEET_DEMO=0 turns it off.
 */
function startDemo(controlPlane: RunningControlPlane): void {
  const log = (line: string) => process.stdout.write(`[demo] ${line}\n`);
  log('preparing the demo (EMOFLEET_DEMO=0 turns it off)');
  controlPlane.app
    .get(DemoService)
    .start(log)
    .catch((error: unknown) => {
      const reason = error instanceof Error ? error.message : String(error);
      process.stderr.write(`[demo] not started: ${reason}\n`);
    });
}

main().catch((error: unknown) => {
  const detail =
    error instanceof ConfigError
      ? error.message
      : error instanceof Error
        ? (error.stack ?? error.message)
        : String(error);
  process.stderr.write(`${detail}\n`);
  process.exit(1);
});
