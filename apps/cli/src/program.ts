import { Command } from 'commander';
import { registerDetectCommand } from './commands/detect';
import { registerFleetCommands } from './commands/fleet';
import { registerModelCommands } from './commands/model';

/** The whole `emofleet` command tree; each command group registers itself from `commands/<group>/`. */
export function buildProgram(): Command {
  const program = new Command('emofleet')
    .description('Manage an emofleet control plane and its darknet expression models')
    .version('0.1.0')
    .showHelpAfterError();
  registerFleetCommands(program);
  registerModelCommands(program);
  registerDetectCommand(program);
  return program;
}
