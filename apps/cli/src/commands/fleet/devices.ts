import { type Command } from 'commander';
import { apiErrorMessage, getJson, resolveServer } from '../../api-client';
import { CliError } from '../../cli-error';

interface DeviceListBody {
  items: Array<{ id: string; online: boolean; simulated: boolean; lastSeenAt: string | null }>;
  nextCursor: string | null;
}

export function registerDevicesCommand(program: Command): void {
  const devices = program.command('devices').description('Devices registered with the control plane');
  devices
    .command('list')
    .description('List devices (all pages)')
    .option('-s, --server <url>', 'control plane URL (default: $EMOFLEET_SERVER or http://127.0.0.1:3000)')
    .option('--online', 'only devices that are online')
    .option('--offline', 'only devices that are offline')
    .option('--json', 'print one JSON object per device')
    .action(async (options: { server?: string; online?: boolean; offline?: boolean; json?: boolean }) => {
      if (options.online && options.offline) throw new CliError('--online and --offline exclude each other', 2);
      const server = resolveServer(options.server);
      const filter = options.online ? '&online=true' : options.offline ? '&online=false' : '';
      let cursor: string | null = null;
      do {
        const cursorParam: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
        const { status, body } = await getJson<DeviceListBody>(server, `/devices?limit=500${filter}${cursorParam}`);
        if (status !== 200) throw new CliError(`listing devices failed: ${apiErrorMessage(body) ?? status}`);
        for (const device of body.items) {
          if (options.json) process.stdout.write(`${JSON.stringify(device)}\n`);
          else {
            const state = device.online ? 'online ' : 'offline';
            const kind = device.simulated ? ' (simulated)' : '';
            process.stdout.write(`${device.id.padEnd(32)} ${state} last seen ${device.lastSeenAt ?? 'never'}${kind}\n`);
          }
        }
        cursor = body.nextCursor;
      } while (cursor !== null);
    });
}
