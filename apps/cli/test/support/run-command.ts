import { Command } from 'commander';

/** What a command wrote while it ran. */
export interface CommandOutput {
  stdout: string;
  stderr: string;
}

/**
 * Runs `emofleet <args>` in this process on a program with the commands `register` adds, and returns what it wrote
 * to stdout and stderr (neither reaches the terminal). Commander's own exits become thrown errors.
 */
export async function runCommand(
  register: (program: Command) => void,
  args: readonly string[],
): Promise<CommandOutput> {
  const program = new Command('emofleet').exitOverride().configureOutput({ writeErr: () => undefined });
  register(program);
  const output: CommandOutput = { stdout: '', stderr: '' };
  const capture = (stream: 'stdout' | 'stderr') =>
    jest.spyOn(process[stream], 'write').mockImplementation((chunk: string | Uint8Array) => {
      output[stream] += String(chunk);
      return true;
    });
  const stdout = capture('stdout');
  const stderr = capture('stderr');
  try {
    await program.parseAsync([...args], { from: 'user' });
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
  }
  return output;
}
