import { type Command } from 'commander';
import { apiErrorMessage, resolveServer } from '../../api-client';
import { CliError } from '../../cli-error';
import {
  requestJson,
  resolveToken,
  SERVER_OPTION_HELP,
  type ServerOptions,
  TOKEN_OPTION_HELP,
} from './control-plane-request';
import { multipartFromFiles } from './multipart-stream';
import { formatBytes, ProgressBar } from './progress-bar';

interface VersionSummary {
  id: string;
  model: string;
  version: number;
  status: string;
  statusReason: string | null;
  parentVersion: number | null;
  transforms: Array<{ kind: string; paperLayers?: number[] }>;
  uploadedBy: string;
  totals: { params: number; flops: number };
  createdAt: string;
}

interface VersionDetail extends VersionSummary {
  analysis: {
    layers: Array<{ index: number; type: string; output: number[]; params: number; flops: number }>;
  };
  files: Array<{ role: string; fileName: string; sha256: string; sizeBytes: number }>;
  manifests: Array<{ format: string; sha256: string; sizeBytes: number }>;
  jobs: Array<{ id: string; queue: string; status: string; progress: number }>;
}

interface UploadOptions extends ServerOptions {
  cfg: string;
  weights: string;
  names: string;
  evalSet?: string;
  transform: string[];
  parent?: string;
  json?: boolean;
}

const collect = (value: string, previous: string[]) => [...previous, value];

function fail(what: string, status: number, body: unknown): never {
  throw new CliError(`${what} failed: ${apiErrorMessage(body) ?? `HTTP ${status}`}`);
}

function describeTransforms(transforms: VersionSummary['transforms']): string {
  return transforms
    .map((transform) =>
      transform.paperLayers ? `${transform.kind}:${transform.paperLayers.join(',')}` : transform.kind,
    )
    .join(' ');
}

/** `emofleet models …`: model versions on the control plane (the local toolchain is `emofleet model`). */
export function registerModelsCommand(program: Command): void {
  const models = program
    .command('models')
    .description('Model versions on the control plane: upload, list, inspect');

  models
    .command('upload <name>')
    .description('Upload a darknet model version (streamed, with a progress bar); prints the convert job id')
    .requiredOption('--cfg <file>', 'darknet .cfg')
    .requiredOption('--weights <file>', 'darknet .weights (size must match the cfg exactly)')
    .requiredOption('--names <file>', 'class names, one per line (count must equal the cfg classes)')
    .option('--eval-set <archive>', 'zip or tar of images with darknet labels (<image>.txt)')
    .option(
      '--transform <spec>',
      'transform to apply in conversion (repeatable): fold-batch-norm | replace-3x3-with-1x1:<paper layers>',
      collect,
      [],
    )
    .option('--parent <version>', 'the version this one derives from (lineage)')
    .option('--json', 'print the created version as JSON')
    .option('-s, --server <url>', SERVER_OPTION_HELP)
    .option('-t, --token <token>', TOKEN_OPTION_HELP)
    .action(async (name: string, options: UploadOptions) => {
      const server = resolveServer(options.server);
      const files = [
        { field: 'cfg', path: options.cfg },
        { field: 'weights', path: options.weights },
        { field: 'names', path: options.names },
        ...(options.evalSet ? [{ field: 'evalSet', path: options.evalSet }] : []),
      ];
      const fields: Array<[string, string]> = options.transform.map((spec) => ['transform', spec]);
      if (options.parent !== undefined) fields.push(['parentVersion', options.parent]);
      const bar = new ProgressBar(`upload ${name}`);
      const body = await multipartFromFiles(files, fields, (sent) =>
        bar.update(sent / Math.max(total, 1), `${formatBytes(sent)} / ${formatBytes(total)}`),
      ).catch((error: unknown) => {
        throw new CliError(
          `cannot read the model files: ${error instanceof Error ? error.message : String(error)}`,
        );
      });
      const total = body.fileBytes;
      const { status, body: answer } = await requestJson<VersionSummary & { jobId: string }>(
        server,
        `/models/${encodeURIComponent(name)}/versions`,
        resolveToken(options.token),
        {
          method: 'POST',
          headers: { 'content-type': body.contentType, 'content-length': String(body.length) },
          body: body.stream,
          duplex: 'half',
        },
      );
      bar.done();
      if (status !== 201) fail(`uploading ${name}`, status, answer);
      if (options.json) process.stdout.write(`${JSON.stringify(answer, null, 2)}\n`);
      else {
        process.stdout.write(
          `${answer.model} version ${answer.version} uploaded (${answer.totals.params} params, ` +
            `${answer.totals.flops} FLOPs); convert job ${answer.jobId}\n` +
            `watch it with: emofleet jobs watch ${answer.jobId}\n`,
        );
      }
    });

  models
    .command('list')
    .description('List models with their number of versions')
    .option('--json', 'print the raw JSON answer')
    .option('-s, --server <url>', SERVER_OPTION_HELP)
    .option('-t, --token <token>', TOKEN_OPTION_HELP)
    .action(async (options: ServerOptions & { json?: boolean }) => {
      const { status, body } = await requestJson<{
        items: Array<{ name: string; versions: number; latestVersion: number | null }>;
      }>(resolveServer(options.server), '/models', resolveToken(options.token));
      if (status !== 200) fail('listing models', status, body);
      if (options.json) process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
      else
        for (const model of body.items) {
          process.stdout.write(
            `${model.name.padEnd(32)} ${model.versions} version(s), latest ${model.latestVersion ?? '-'}\n`,
          );
        }
    });

  models
    .command('versions <name>')
    .description('List the versions of a model, newest first, with status and lineage')
    .option('--json', 'print the raw JSON answer')
    .option('-s, --server <url>', SERVER_OPTION_HELP)
    .option('-t, --token <token>', TOKEN_OPTION_HELP)
    .action(async (name: string, options: ServerOptions & { json?: boolean }) => {
      const { status, body } = await requestJson<{ items: VersionSummary[] }>(
        resolveServer(options.server),
        `/models/${encodeURIComponent(name)}/versions`,
        resolveToken(options.token),
      );
      if (status !== 200) fail(`listing versions of ${name}`, status, body);
      if (options.json) {
        process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
        return;
      }
      for (const version of body.items) {
        const parent = version.parentVersion === null ? '' : ` parent ${version.parentVersion}`;
        const transforms =
          version.transforms.length > 0 ? ` [${describeTransforms(version.transforms)}]` : '';
        const reason = version.statusReason ? ` (${version.statusReason})` : '';
        process.stdout.write(
          `v${String(version.version).padEnd(4)} ${version.status.padEnd(12)} ${version.createdAt} by ${version.uploadedBy}` +
            `${parent}${transforms}${reason}\n`,
        );
      }
    });

  models
    .command('inspect <name> <version>')
    .description('Show a version: lineage, per-layer params and FLOPs, files, signed manifests, jobs')
    .option('--json', 'print the raw JSON answer')
    .option('-s, --server <url>', SERVER_OPTION_HELP)
    .option('-t, --token <token>', TOKEN_OPTION_HELP)
    .action(async (name: string, version: string, options: ServerOptions & { json?: boolean }) => {
      const { status, body } = await requestJson<VersionDetail>(
        resolveServer(options.server),
        `/models/${encodeURIComponent(name)}/versions/${encodeURIComponent(version)}`,
        resolveToken(options.token),
      );
      if (status !== 200) fail(`inspecting ${name} version ${version}`, status, body);
      if (options.json) {
        process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
        return;
      }
      const out = (line: string) => process.stdout.write(`${line}\n`);
      out(
        `${body.model} v${body.version}: ${body.status}${body.statusReason ? ` (${body.statusReason})` : ''}`,
      );
      out(`uploaded by ${body.uploadedBy} at ${body.createdAt}; parent ${body.parentVersion ?? 'none'}`);
      if (body.transforms.length > 0) out(`transforms: ${describeTransforms(body.transforms)}`);
      out('');
      out(
        `${'layer'.padStart(5)}  ${'type'.padEnd(14)} ${'output'.padEnd(16)} ${'params'.padStart(12)} ${'FLOPs'.padStart(15)}`,
      );
      for (const layer of body.analysis.layers) {
        out(
          `${String(layer.index).padStart(5)}  ${layer.type.padEnd(14)} ${layer.output.join('x').padEnd(16)} ` +
            `${String(layer.params).padStart(12)} ${String(layer.flops).padStart(15)}`,
        );
      }
      out(
        `${'total'.padStart(5)}  ${''.padEnd(14)} ${''.padEnd(16)} ${String(body.totals.params).padStart(12)} ${String(body.totals.flops).padStart(15)}`,
      );
      out('');
      for (const file of body.files)
        out(
          `file     ${file.role.padEnd(18)} ${file.sha256} ${formatBytes(file.sizeBytes)} ${file.fileName}`,
        );
      for (const manifest of body.manifests)
        out(`manifest ${manifest.format.padEnd(18)} ${manifest.sha256} (signed)`);
      for (const job of body.jobs) out(`job      ${job.id} ${job.status} ${job.progress}%`);
    });
}
