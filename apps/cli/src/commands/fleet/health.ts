import { type Command } from 'commander';
import { getJson, resolveServer } from '../../api-client';
import { CliError } from '../../cli-error';

interface HealthBody {
  status: string;
  info?: Record<string, { status: string; message?: string }>;
  error?: Record<string, { status: string; message?: string }>;
}

export function registerHealthCommand(program: Command): void {
  program
    .command('health')
    .description("Show the control plane's health: Redis, MQTT and the database")
    .option('-s, --server <url>', 'control plane URL (default: $EMOFLEET_SERVER or http://127.0.0.1:3000)')
    .option('--json', 'print the raw JSON answer')
    .action(async (options: { server?: string; json?: boolean }) => {
      const server = resolveServer(options.server);
      const { status, body } = await getJson<HealthBody>(server, '/health');
      if (options.json) process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
      else {
        const components = { ...body.info, ...body.error };
        for (const [name, component] of Object.entries(components)) {
          const detail = component.message ? ` (${component.message})` : '';
          process.stdout.write(`${name.padEnd(10)} ${component.status}${detail}\n`);
        }
      }
      if (status !== 200) throw new CliError(`control plane at ${server} is unhealthy (${status})`, 2);
    });
}
