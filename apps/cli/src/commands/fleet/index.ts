import { type Command } from 'commander';
import { registerDevicesCommand } from './devices';
import { registerHealthCommand } from './health';

export function registerFleetCommands(program: Command): void {
  registerHealthCommand(program);
  registerDevicesCommand(program);
}
