import { readFileSync } from 'node:fs';
import * as path from 'node:path';

/** The agent's version from agent/package.json (the same relative path from src/ and from dist/). */
export function readAgentVersion(): string {
  const packageJson = JSON.parse(readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as {
    version?: unknown;
  };
  if (typeof packageJson.version !== 'string') throw new Error('agent/package.json has no version');
  return packageJson.version;
}
