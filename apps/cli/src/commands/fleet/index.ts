import { type Command } from 'commander';
import { registerDevicesCommand } from './devices';
import { registerEngineCommands } from './engines';
import { registerEnrolTokenCommands } from './enrol-tokens';
import { registerHealthCommand } from './health';
import { registerJobsCommand } from './jobs';
import { registerLoginCommands } from './login';
import { registerModelsCommand } from './models';
import { registerRolloutCommands } from './rollouts';
import { registerTokenCommands } from './tokens';

export function registerFleetCommands(program: Command): void {
  registerLoginCommands(program);
  registerHealthCommand(program);
  registerDevicesCommand(program);
  registerEnrolTokenCommands(program);
  registerTokenCommands(program);
  registerModelsCommand(program);
  registerJobsCommand(program);
  registerRolloutCommands(program);
  registerEngineCommands(program);
}
