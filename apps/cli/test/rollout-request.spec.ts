import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CliError } from '../src/cli-error';
import { rolloutRequestBody } from '../src/commands/fleet/rollout-request';

describe('the body `rollouts create` / `preview` send', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'emofleet-rollout-request-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('maps the flags of the common case onto the API fields', () => {
    expect(
      rolloutRequestBody({
        model: 'fer@lab@2',
        selector: 'site=lab',
        phases: '1, 10%,50%,100%',
        soak: '10m',
        approval: 'manual',
        minFps: '5',
        accuracyTolerance: '0.02',
        maxConcurrent: '4',
        canary: ['jetson-1'],
      }),
    ).toEqual({
      name: 'fer@lab@2 to site=lab',
      model: { name: 'fer@lab', version: 2 },
      selector: 'site=lab',
      phases: [
        { count: 1, soakSeconds: 600 },
        { percent: 10, soakSeconds: 600, approval: 'manual' },
        { percent: 50, soakSeconds: 600, approval: 'manual' },
        { percent: 100, soakSeconds: 600, approval: 'manual' },
      ],
      gates: { fps: { min: 5 }, accuracy: { baseline: 'previous-model', tolerance: 0.02 } },
      maxConcurrentInstalls: 4,
      canaryDevices: ['jetson-1'],
    });
  });

  it('leaves out what was not asked for: the control plane applies its defaults', () => {
    expect(rolloutRequestBody({ model: 'fer@1', canary: [] })).toEqual({
      name: 'fer@1 to every device',
      model: { name: 'fer', version: 1 },
      selector: '',
      phases: [{ count: 1 }, { percent: 10 }, { percent: 50 }, { percent: 100 }],
    });
  });

  it('reads a YAML or JSON file as the whole body, and refuses flags next to it', () => {
    const file = join(dir, 'rollout.yaml');
    writeFileSync(file, 'name: lab\nmodel: { name: fer, version: 2 }\nphases:\n  - percent: 100\n');
    expect(rolloutRequestBody({ file, canary: [] })).toEqual({
      name: 'lab',
      model: { name: 'fer', version: 2 },
      phases: [{ percent: 100 }],
    });
    expect(() => rolloutRequestBody({ file, soak: '10m', canary: ['a'] })).toThrow(
      '--file describes the whole rollout: drop --soak, --canary',
    );
    writeFileSync(file, '[1, 2]\n');
    expect(() => rolloutRequestBody({ file, canary: [] })).toThrow(
      `--file ${file}: expected an object with name, model, selector, phases, …`,
    );
  });

  it.each([
    [{ model: 'fer' }, '--model "fer": expected <name>@<version>, e.g. fer@2'],
    [{ model: 'fer@0' }, '--model "fer@0": expected <name>@<version>, e.g. fer@2'],
    [{}, 'give --model <name>@<version> (or the whole rollout with --file)'],
    [{ model: 'fer@1', phases: '1,,100%' }, '--phases "1,,100%", entry 2 "": expected a device count'],
    [{ model: 'fer@1', phases: '0,100%' }, '--phases "0,100%", entry 1 "0": expected a device count'],
    [{ model: 'fer@1', phases: '150%' }, '--phases "150%", entry 1 "150%": a percentage must be in (0, 100]'],
    [{ model: 'fer@1', soak: '30s' }, '--soak "30s": give a positive duration like 45m, 12h or 30d'],
    [{ model: 'fer@1', approval: 'later' }, '--approval "later": expected manual or automatic'],
    [
      { model: 'fer@1', accuracyBaseline: 'best' },
      '--accuracy-baseline "best": expected a number from 0 to 1',
    ],
    [{ model: 'fer@1', maxConcurrent: '2.5' }, '--max-concurrent "2.5": expected a whole number ≥ 1'],
  ])('refuses %j with exit code 2, naming the flag', (options, message) => {
    let thrown: unknown;
    try {
      rolloutRequestBody({ canary: [], ...options });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(CliError);
    expect((thrown as CliError).message).toContain(message);
    expect((thrown as CliError).exitCode).toBe(2);
  });
});
