import { ConfigError, loadAppConfig } from './config/app-config';
import { startControlPlane } from './control-plane';

async function main(): Promise<void> {
  const config = loadAppConfig();
  const controlPlane = await startControlPlane(config, (line) => process.stdout.write(`[boot] ${line}\n`));
  process.stdout.write(
    `[boot] emofleet control plane (${config.role}) ready: API ${controlPlane.httpUrl}, ` +
      `OpenAPI ${controlPlane.httpUrl}/docs, health ${controlPlane.httpUrl}/health\n`,
  );
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
