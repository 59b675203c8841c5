import { buildCli } from './cli';
import { readAgentVersion } from './agent-version';

/** Entry point of `emofleet-agent` (bin/emofleet-agent.js loads the compiled file). */
buildCli({
  env: process.env,
  agentVersion: readAgentVersion(),
  signals: process,
  writeError: (text) => process.stderr.write(text),
  writeOutput: (text) => process.stdout.write(text),
  setExitCode: (code) => {
    process.exitCode = code;
  },
})
  .parseAsync(process.argv)
  .catch((error: unknown) => {
    process.stderr.write(
      `emofleet-agent: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 1;
  });
