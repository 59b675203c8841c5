import { buildProgram } from '../../../cli/src/program';

/**
 * Runs `emofleet <args>` in-process (the control plane under test runs in the same process); returns what it
 * wrote to stdout, or throws what the command threw.
 */
export async function runCli(...args: string[]): Promise<string> {
  let output = '';
  const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    output += String(chunk);
    return true;
  });
  try {
    await buildProgram()
      .exitOverride()
      .parseAsync(['node', 'emofleet', ...args]);
  } finally {
    write.mockRestore();
  }
  return output;
}
