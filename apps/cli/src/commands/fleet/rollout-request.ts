import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { CliError } from '../../cli-error';
import { parseDuration } from '../../duration';

/** The options `rollouts create` and `rollouts preview` take to describe a rollout. */
export interface RolloutRequestOptions {
  file?: string;
  name?: string;
  model?: string;
  selector?: string;
  phases?: string;
  soak?: string;
  approval?: string;
  minFps?: string;
  accuracyBaseline?: string;
  accuracyTolerance?: string;
  maxConcurrent?: string;
  canary: string[];
}

/** The flags that describe a rollout; `--file` excludes them (the file says everything). */
const REQUEST_FLAGS: ReadonlyArray<[keyof RolloutRequestOptions, string]> = [
  ['name', '--name'],
  ['model', '--model'],
  ['selector', '--selector'],
  ['phases', '--phases'],
  ['soak', '--soak'],
  ['approval', '--approval'],
  ['minFps', '--min-fps'],
  ['accuracyBaseline', '--accuracy-baseline'],
  ['accuracyTolerance', '--accuracy-tolerance'],
  ['maxConcurrent', '--max-concurrent'],
];

interface PhaseInput {
  count?: number;
  percent?: number;
  soakSeconds?: number;
  approval?: 'manual';
}

/**
 * The body of `POST /rollouts` (and `/rollouts/preview`): the parsed `--file` (JSON or YAML, `-` for stdin) as
 * it is, or one built from the flags. The control plane validates it; malformed flags fail here (exit code 2).
 */
export function rolloutRequestBody(options: RolloutRequestOptions): unknown {
  if (options.file !== undefined) {
    const conflicting = REQUEST_FLAGS.filter(([key]) => options[key] !== undefined).map(([, flag]) => flag);
    if (options.canary.length > 0) conflicting.push('--canary');
    if (conflicting.length > 0)
      throw new CliError(`--file describes the whole rollout: drop ${conflicting.join(', ')}`, 2);
    return readRolloutFile(options.file);
  }
  if (options.model === undefined)
    throw new CliError('give --model <name>@<version> (or the whole rollout with --file)', 2);
  const model = parseModelReference(options.model);
  const selector = options.selector ?? '';
  const soakSeconds = options.soak === undefined ? undefined : parseDuration(options.soak, '--soak') / 1000;
  const approval = parseApproval(options.approval);
  const phases = parsePhases(options.phases ?? '1,10%,50%,100%').map(
    (phase, index): PhaseInput => ({
      ...phase,
      ...(soakSeconds === undefined ? {} : { soakSeconds }),
      // The first phase starts when the rollout is created; manual approval gates the ones after it.
      ...(approval === 'manual' && index > 0 ? { approval } : {}),
    }),
  );
  const fps =
    options.minFps === undefined ? undefined : { min: parseNumber('--min-fps', options.minFps, 0, 10_000) };
  const accuracy =
    options.accuracyBaseline === undefined && options.accuracyTolerance === undefined
      ? undefined
      : {
          baseline:
            options.accuracyBaseline === undefined || options.accuracyBaseline === 'previous-model'
              ? 'previous-model'
              : parseNumber('--accuracy-baseline', options.accuracyBaseline, 0, 1),
          tolerance:
            options.accuracyTolerance === undefined
              ? 0.01
              : parseNumber('--accuracy-tolerance', options.accuracyTolerance, 0, 1),
        };
  return {
    name: options.name ?? defaultName(model, selector),
    model,
    selector,
    phases,
    ...(fps === undefined && accuracy === undefined ? {} : { gates: { fps, accuracy } }),
    ...(options.maxConcurrent === undefined
      ? {}
      : { maxConcurrentInstalls: parseInteger('--max-concurrent', options.maxConcurrent, 1) }),
    ...(options.canary.length > 0 ? { canaryDevices: options.canary } : {}),
  };
}

/**
 * `fer@2` → `{ name: 'fer', version: 2 }` (model names may contain `@`: the last one separates); `what` names the
 * option or argument in the error.
 */
export function parseModelReference(text: string, what = '--model'): { name: string; version: number } {
  const at = text.lastIndexOf('@');
  const version = Number(text.slice(at + 1));
  if (at <= 0 || !/^\d+$/.test(text.slice(at + 1)) || version < 1)
    throw new CliError(`${what} "${text}": expected <name>@<version>, e.g. fer@2`, 2);
  return { name: text.slice(0, at), version };
}

/** `1,10%,50%,100%` → a phase per entry: a device count, or a percentage of the targets. */
export function parsePhases(text: string): Array<{ count: number } | { percent: number }> {
  const entries = text.split(',').map((entry) => entry.trim());
  return entries.map((entry, index) => {
    const where = `--phases "${text}", entry ${index + 1} "${entry}"`;
    const percent = /^(\d+(?:\.\d+)?)%$/.exec(entry);
    if (percent) {
      const value = Number(percent[1]);
      if (value <= 0 || value > 100) throw new CliError(`${where}: a percentage must be in (0, 100]`, 2);
      return { percent: value };
    }
    if (/^\d+$/.test(entry) && Number(entry) >= 1) return { count: Number(entry) };
    throw new CliError(`${where}: expected a device count (e.g. 1) or a percentage (e.g. 10%)`, 2);
  });
}

function parseApproval(text: string | undefined): 'automatic' | 'manual' {
  if (text === undefined || text === 'automatic' || text === 'manual') return text ?? 'automatic';
  throw new CliError(`--approval "${text}": expected manual or automatic`, 2);
}

function parseNumber(flag: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < min || value > max)
    throw new CliError(`${flag} "${text}": expected a number from ${min} to ${max}`, 2);
  return value;
}

function parseInteger(flag: string, text: string, min: number): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) < min)
    throw new CliError(`${flag} "${text}": expected a whole number ≥ ${min}`, 2);
  return Number(text);
}

function defaultName(model: { name: string; version: number }, selector: string): string {
  const name = `${model.name}@${model.version} to ${selector.trim() === '' ? 'every device' : selector}`;
  return name.length <= 100 ? name : `${name.slice(0, 99)}…`;
}

function readRolloutFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new CliError(`--file ${path}: cannot read it (${reason})`, 2);
  }
  const document = parseDocument(text, { prettyErrors: true });
  const problem = document.errors[0];
  if (problem !== undefined) {
    const firstLine = (problem.message.split('\n')[0] ?? '').replace(/:$/, '');
    throw new CliError(`--file ${path}: not valid JSON or YAML: ${firstLine}`, 2);
  }
  const body: unknown = document.toJS();
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new CliError(`--file ${path}: expected an object with name, model, selector, phases, …`, 2);
  return body;
}
