import { type Command } from 'commander';
import { failure, requestJson } from '../../api-client';
import { CliError } from '../../cli-error';
import { connectionOf, type ConnectionOptions, withConnectionOptions } from './connection-options';
import { registerDeviceJobCommands } from './device-jobs';
import { collect } from './key-values';

interface DeviceView {
  id: string;
  name: string;
  tags: Record<string, string>;
  online: boolean;
  simulated: boolean;
  lastSeenAt: string | null;
  currentModel: { modelId: string; version: string } | null;
}

interface DeviceListBody {
  items: DeviceView[];
  nextCursor: string | null;
}

interface ListOptions extends ConnectionOptions {
  tag: string[];
  online?: boolean;
  offline?: boolean;
  model?: string;
  capability: string[];
  json?: boolean;
}

const formatTags = (tags: Record<string, string>): string =>
  Object.entries(tags)
    .map(([key, value]) => `${key}=${value}`)
    .join(',');

/** `emofleet devices …`: the device registry. */
export function registerDevicesCommand(program: Command): void {
  const devices = program.command('devices').description('Devices registered with the control plane');

  withConnectionOptions(devices.command('list'))
    .description('List devices in service (all pages), optionally filtered')
    .option(
      '--tag <selector>',
      'tag requirement: k=v, k!=v, k or !k (repeat to require several)',
      collect,
      [],
    )
    .option('--online', 'only devices that are online')
    .option('--offline', 'only devices that are offline')
    .option('--model <model>', 'only devices running <modelId> or <modelId>@<version>')
    .option('--capability <k=v>', 'capability requirement, e.g. backend=tensorrt (repeatable)', collect, [])
    .option('--json', 'print one JSON object per device')
    .action(async (options: ListOptions) => {
      if (options.online && options.offline)
        throw new CliError('--online and --offline exclude each other', 2);
      const { server, token } = connectionOf(options);
      const query = new URLSearchParams({ limit: '500' });
      if (options.online || options.offline) query.set('online', options.online ? 'true' : 'false');
      if (options.tag.length > 0) query.set('tags', options.tag.join(','));
      if (options.model !== undefined) query.set('model', options.model);
      if (options.capability.length > 0) query.set('capability', options.capability.join(','));
      let cursor: string | null = null;
      do {
        if (cursor !== null) query.set('cursor', cursor);
        const { status, body } = await requestJson<DeviceListBody>(
          server,
          'GET',
          `/devices?${query.toString()}`,
          {
            token,
          },
        );
        if (status !== 200) throw failure('listing devices', status, body);
        for (const device of body.items) {
          if (options.json) {
            process.stdout.write(`${JSON.stringify(device)}\n`);
            continue;
          }
          const state = device.online ? 'online ' : 'offline';
          const model = device.currentModel
            ? `${device.currentModel.modelId}@${device.currentModel.version}`
            : '-';
          const kind = device.simulated ? ' (simulated)' : '';
          process.stdout.write(
            `${device.id.padEnd(32)} ${state} ${model.padEnd(16)} ${formatTags(device.tags) || '-'} ` +
              `last seen ${device.lastSeenAt ?? 'never'}${kind}\n`,
          );
        }
        cursor = body.nextCursor;
      } while (cursor !== null);
    });

  withConnectionOptions(devices.command('tag'))
    .description('Set tags (k=v) and remove tags (k-) of a device (operator)')
    .argument('<id>', 'device id')
    .argument('<changes...>', 'k=v sets tag k; k- removes it')
    .action(async (id: string, changes: string[], options: ConnectionOptions) => {
      const tags: Record<string, string | null> = {};
      for (const change of changes) {
        const equals = change.indexOf('=');
        if (equals > 0) tags[change.slice(0, equals)] = change.slice(equals + 1);
        else if (change.endsWith('-') && change.length > 1) tags[change.slice(0, -1)] = null;
        else throw new CliError(`"${change}": expected k=v (set) or k- (remove)`, 2);
      }
      const { server, token } = connectionOf(options);
      const { status, body } = await requestJson<DeviceView>(
        server,
        'PATCH',
        `/devices/${encodeURIComponent(id)}`,
        {
          token,
          body: { tags },
        },
      );
      if (status !== 200) throw failure(`tagging ${id}`, status, body);
      process.stdout.write(`${body.id} ${formatTags(body.tags) || '(no tags)'}\n`);
    });

  withConnectionOptions(devices.command('decommission'))
    .description('Take a device out of service: revoke its credentials and end its MQTT session (operator)')
    .argument('<id>', 'device id')
    .action(async (id: string, options: ConnectionOptions) => {
      const { server, token } = connectionOf(options);
      const { status, body } = await requestJson<DeviceView>(
        server,
        'DELETE',
        `/devices/${encodeURIComponent(id)}`,
        {
          token,
        },
      );
      if (status !== 200) throw failure(`decommissioning ${id}`, status, body);
      process.stdout.write(`decommissioned ${body.id}\n`);
    });

  registerDeviceJobCommands(devices);
}
