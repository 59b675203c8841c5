import { type Command, Option } from 'commander';
import { failure, requestJson } from '../../api-client';
import { CliError } from '../../cli-error';
import { connectionOf, type ConnectionOptions, withConnectionOptions } from './connection-options';
import { pollInterval, watchJob } from './jobs';
import { formatBytes } from './progress-bar';
import { parseModelReference } from './rollout-request';
import { formatTable } from './text-table';

interface EngineBuildView {
  cacheKey: string;
  jobId: string;
  modelVersionId: string;
  status: 'queued' | 'building' | 'succeeded' | 'failed';
  target: { gpuArch: string; tensorrt: string; jetpack: string | null; precision: string };
  plan: { commandLine: string; notes: string[] };
  builderDeviceId: string | null;
  engine: {
    sha256: string;
    sizeBytes: number;
    tensorrtVersion: string | null;
    buildMs: number | null;
  } | null;
  timing: {
    throughputQps?: number;
    latencyMs?: { mean: number; p99?: number };
    gpuComputeMs?: { mean: number };
  } | null;
  buildLog: string | null;
  failedReason: string | null;
  finishedAt: string | null;
}

interface BuildOptions extends ConnectionOptions {
  deviceClass: string;
  precision: string;
  workspace?: string;
  watch?: boolean;
  interval: string;
  json?: boolean;
}

/** The keys of `--device-class`, as the agent's `--claim-device-class` spells them. */
const CLASS_KEYS = ['gpuArch', 'tensorrt', 'jetpack'] as const;

/**
 * `gpuArch=sm_53,jetpack=4.6.1` → the class fields of an engine request (the control plane checks the values and
 * derives TensorRT from JetPack when only that is given).
 */
export function parseDeviceClass(text: string): { gpuArch: string; tensorrt?: string; jetpack?: string } {
  const fields: Partial<Record<(typeof CLASS_KEYS)[number], string>> = {};
  for (const entry of text.split(',').map((part) => part.trim())) {
    const equals = entry.indexOf('=');
    const key = entry.slice(0, equals);
    const value = entry.slice(equals + 1).trim();
    if (equals <= 0 || value === '' || !(CLASS_KEYS as readonly string[]).includes(key)) {
      throw new CliError(
        `--device-class "${text}": "${entry}" is not one of ${CLASS_KEYS.map((name) => `${name}=<value>`).join(', ')}`,
        2,
      );
    }
    const name = key as (typeof CLASS_KEYS)[number];
    if (fields[name] !== undefined) throw new CliError(`--device-class "${text}": ${name} is given twice`, 2);
    fields[name] = value;
  }
  const { gpuArch, tensorrt, jetpack } = fields;
  if (gpuArch === undefined)
    throw new CliError(`--device-class "${text}": give gpuArch, e.g. gpuArch=sm_53,jetpack=4.6.1`, 2);
  if (tensorrt === undefined && jetpack === undefined)
    throw new CliError(`--device-class "${text}": give tensorrt, jetpack or both`, 2);
  return {
    gpuArch,
    ...(tensorrt === undefined ? {} : { tensorrt }),
    ...(jetpack === undefined ? {} : { jetpack }),
  };
}

const describeClass = (target: EngineBuildView['target']): string =>
  `${target.gpuArch} / TensorRT ${target.tensorrt}${target.jetpack === null ? '' : ` / JetPack ${target.jetpack}`}`;

function describeTiming(timing: EngineBuildView['timing']): string {
  if (timing === null) return '-';
  const parts = [
    timing.throughputQps === undefined ? undefined : `${timing.throughputQps} qps`,
    timing.latencyMs === undefined ? undefined : `latency ${timing.latencyMs.mean} ms`,
    timing.gpuComputeMs === undefined ? undefined : `GPU ${timing.gpuComputeMs.mean} ms`,
  ].filter((part): part is string => part !== undefined);
  return parts.length === 0 ? '-' : parts.join(', ');
}

/** The lines `engines build` and `engines show` print for one build. */
function renderBuild(build: EngineBuildView, options: { log: boolean }): string {
  const lines = [
    `engine build ${build.cacheKey}: ${build.status}`,
    `  class      ${describeClass(build.target)} / ${build.target.precision}`,
    `  command    ${build.plan.commandLine}`,
    `  builder    ${build.builderDeviceId ?? '-'}`,
  ];
  if (build.engine !== null) {
    lines.push(
      `  engine     ${build.engine.sha256} (${formatBytes(build.engine.sizeBytes)}` +
        `${build.engine.tensorrtVersion === null ? '' : `, TensorRT ${build.engine.tensorrtVersion}`}` +
        `${build.engine.buildMs === null ? '' : `, built in ${build.engine.buildMs} ms`})`,
      `  timing     ${describeTiming(build.timing)}`,
    );
  }
  if (build.failedReason !== null) lines.push(`  failed     ${build.failedReason}`);
  for (const note of build.plan.notes) lines.push(`  note       ${note}`);
  if (options.log && build.buildLog !== null) {
    lines.push('  builder log (tail):', ...build.buildLog.split('\n').map((line) => `    ${line}`));
  }
  return lines.map((line) => `${line}\n`).join('');
}

/** `<name>@<version>` → the version's id (GET /models/:name/versions/:version). */
async function versionIdOf(server: string, token: string | undefined, reference: string): Promise<string> {
  const { name, version } = parseModelReference(reference, '<model>@<version>');
  const answer = await requestJson<{ id: string }>(
    server,
    'GET',
    `/models/${encodeURIComponent(name)}/versions/${version}`,
    { token },
  );
  if (answer.status !== 200) throw failure(`finding model version ${reference}`, answer.status, answer.body);
  return answer.body.id;
}

async function readBuild(
  server: string,
  token: string | undefined,
  cacheKey: string,
): Promise<EngineBuildView> {
  const answer = await requestJson<EngineBuildView>(
    server,
    'GET',
    `/engine-builds/${encodeURIComponent(cacheKey)}`,
    { token },
  );
  if (answer.status !== 200) throw failure(`reading engine build ${cacheKey}`, answer.status, answer.body);
  return answer.body;
}

/** `emofleet engines …`: TensorRT engines of model versions, built on builder devices (docs/engines.md). */
export function registerEngineCommands(program: Command): void {
  const engines = program
    .command('engines')
    .description('TensorRT engines of ready model versions, built per device class on builder devices');

  withConnectionOptions(engines.command('build'))
    .description(
      'Request the engine of a model version for a device class (operator); a built one answers from the cache',
    )
    .argument('<model@version>', 'a ready model version, e.g. fer@2')
    .requiredOption(
      '--device-class <class>',
      'the target devices: gpuArch=sm_53,jetpack=4.6.1 or gpuArch=sm_72,tensorrt=8.5[,jetpack=5.1]',
    )
    .addOption(
      new Option(
        '--precision <precision>',
        'engine precision; int8 needs the version quantized first (`POST …/quantize`: its calibration cache) ' +
          'and an INT8 GPU (sm_72, sm_87; not sm_53 or sm_62)',
      )
        .choices(['fp16', 'fp32', 'int8'])
        .default('fp16'),
    )
    .option('--workspace <MiB>', 'builder workspace limit in MiB (default 256)')
    .option('--watch', 'follow the build until it ends (exit 1 when it fails)')
    .option('--interval <ms>', 'how often --watch polls', '1000')
    .option('--json', 'print the build as JSON (the final state with --watch)')
    .action(async (reference: string, options: BuildOptions) => {
      const interval = pollInterval(options.interval);
      let workspaceMiB: number | undefined;
      if (options.workspace !== undefined) {
        workspaceMiB = Number(options.workspace);
        if (!/^\d+$/.test(options.workspace) || workspaceMiB < 1)
          throw new CliError(`--workspace "${options.workspace}": expected a whole number of MiB ≥ 1`, 2);
      }
      const body = {
        ...parseDeviceClass(options.deviceClass),
        precision: options.precision,
        ...(workspaceMiB === undefined ? {} : { workspaceMiB }),
      };
      const { server, token } = connectionOf(options);
      const versionId = await versionIdOf(server, token, reference);
      const answer = await requestJson<EngineBuildView & { cached: boolean }>(
        server,
        'POST',
        `/models/${versionId}/engines`,
        { token, body },
      );
      if (answer.status !== 200 && answer.status !== 202)
        throw failure(`requesting the engine of ${reference}`, answer.status, answer.body);
      let build: EngineBuildView & { cached?: boolean } = answer.body;
      if (!options.json) {
        process.stdout.write(
          answer.body.cached
            ? `${reference}: engine for ${describeClass(build.target)} / ${build.target.precision} built before (cached)\n`
            : `${reference}: engine build ${build.cacheKey} ${build.status} (job ${build.jobId})\n`,
        );
      }
      if (options.watch && !answer.body.cached) {
        await watchJob(server, token, build.jobId, interval);
        build = await readBuild(server, token, build.cacheKey);
      }
      if (options.json) process.stdout.write(`${JSON.stringify(build, null, 2)}\n`);
      else if (options.watch || answer.body.cached) process.stdout.write(renderBuild(build, { log: false }));
      else process.stdout.write(`follow it with: emofleet jobs watch ${build.jobId}\n`);
    });

  withConnectionOptions(engines.command('list'))
    .description("A model version's engines: every device class and status")
    .argument('<model@version>', 'a model version, e.g. fer@2')
    .option('--json', 'print the JSON answer')
    .action(async (reference: string, options: ConnectionOptions & { json?: boolean }) => {
      const { server, token } = connectionOf(options);
      const versionId = await versionIdOf(server, token, reference);
      const answer = await requestJson<{ items: EngineBuildView[] }>(
        server,
        'GET',
        `/models/${versionId}/engines`,
        { token },
      );
      if (answer.status !== 200)
        throw failure(`listing the engines of ${reference}`, answer.status, answer.body);
      if (options.json) {
        process.stdout.write(`${JSON.stringify(answer.body, null, 2)}\n`);
        return;
      }
      if (answer.body.items.length === 0) {
        process.stdout.write(
          `${reference} has no engines yet (request one with \`emofleet engines build\`)\n`,
        );
        return;
      }
      process.stdout.write(
        formatTable(
          ['CACHE KEY', 'CLASS', 'PRECISION', 'STATUS', 'BUILDER', 'ENGINE', 'TIMING'],
          answer.body.items.map((build) => [
            build.cacheKey,
            describeClass(build.target),
            build.target.precision,
            build.failedReason === null ? build.status : `${build.status}: ${build.failedReason}`,
            build.builderDeviceId ?? '-',
            build.engine === null
              ? '-'
              : `${build.engine.sha256.slice(0, 12)} ${formatBytes(build.engine.sizeBytes)}`,
            describeTiming(build.timing),
          ]),
        ),
      );
    });

  withConnectionOptions(engines.command('show'))
    .description('One engine build: class, trtexec command, builder, engine, timing and the builder log')
    .argument('<cacheKey>', 'the engine cache key (from `engines list --json` or `engines build`)')
    .option('--json', 'print the JSON answer')
    .action(async (cacheKey: string, options: ConnectionOptions & { json?: boolean }) => {
      const { server, token } = connectionOf(options);
      const build = await readBuild(server, token, cacheKey);
      process.stdout.write(
        options.json ? `${JSON.stringify(build, null, 2)}\n` : renderBuild(build, { log: true }),
      );
    });
}
