import { Command } from 'commander';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { loadCfg, loadWeights, randomWeights, saveWeights } from '@emofleet/darknet';
import { registerModelCommands } from '../src/commands/model';
import { runCommand } from './support/run-command';

const MODELS = join(__dirname, '..', '..', '..', 'libs', 'darknet', 'models');
const BASE_CFG = join(MODELS, 'yolov2-expression.cfg');

async function run(...args: string[]): Promise<string> {
  return (await runCommand(registerModelCommands, ['model', ...args])).stdout;
}

describe('emofleet model', () => {
  let directory: string;
  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'cli-model-'));
  });
  afterEach(() => rmSync(directory, { recursive: true, force: true }));

  it('registers every model subcommand', () => {
    const program = new Command('emofleet');
    registerModelCommands(program);
    const model = program.commands.find((command) => command.name() === 'model');
    expect(model?.commands.map((command) => command.name())).toEqual([
      'inspect',
      'transform',
      'convert',
      'verify',
      'plan',
      'import-faceapi',
      'quantize',
    ]);
  });

  it('inspect --json prints layers and totals', async () => {
    const report = JSON.parse(await run('inspect', BASE_CFG, '--json')) as {
      layers: Array<{
        index: number;
        type: string;
        output: number[];
        kernelSize?: number;
        params: number;
        flops: number;
      }>;
      totals: { params: number; flops: number };
    };
    expect(report.layers[30]).toEqual({
      index: 30,
      type: 'convolutional',
      output: [45, 13, 13],
      kernelSize: 1,
      params: 46_125,
      flops: 15_575_040,
    });
    expect(report.totals).toEqual({ params: 50_563_053, flops: 29_332_645_888 });
  });

  it('inspect prints a table and checks weights', async () => {
    const cfg = join(MODELS, 'yolov2-tiny-expression.cfg');
    const weights = join(directory, 'tiny.weights');
    const network = loadCfg(cfg);
    saveWeights(network, randomWeights(network, 1), weights);
    const table = await run('inspect', cfg, '--weights', weights);
    expect(table).toContain('maxpool                 2x2/1  13 x 13 x 512   ->  13 x 13 x 512');
    expect(table).toContain('total params 15,776,717');
    expect(table).toContain('size matches the cfg');
    writeFileSync(weights, readFileSync(weights).subarray(0, 1000));
    await expect(run('inspect', cfg, '--weights', weights)).rejects.toThrow(
      /truncated: expected \d+ bytes .* got 1000/,
    );
  });

  it('transform --replace-3x3 writes the 1x1 cfg and reports the reduction', async () => {
    const out = join(directory, 'one.cfg');
    const text = await run('transform', BASE_CFG, '--replace-3x3', '3,7,11,15,21,23,25', '--out', out);
    expect(text).toContain('reduction: 35.94% params, 38.66% FLOPs');
    expect(text).toContain('must be retrained');
    expect(loadCfg(out).layers.map((layer) => layer.outputShape)).toEqual(
      loadCfg(join(MODELS, 'yolov2-expression-1x1.cfg')).layers.map((layer) => layer.outputShape),
    );
  });

  it('transform refuses bad layer lists and leaves no output', async () => {
    const out = join(directory, 'bad.cfg');
    await expect(run('transform', BASE_CFG, '--replace-3x3', '3,x', '--out', out)).rejects.toThrow(
      "'x' is not a layer number",
    );
    await expect(run('transform', BASE_CFG, '--replace-3x3', '2', '--out', out)).rejects.toThrow(
      'is a maxpool layer, not a 3x3 convolution',
    );
    expect(readdirSync(directory)).toEqual([]);
  });

  it('transform --fold-bn writes a cfg without batch norm and matching weights', async () => {
    const cfg = join(MODELS, 'yolov2-tiny-expression.cfg');
    const network = loadCfg(cfg);
    const weightsIn = join(directory, 'in.weights');
    saveWeights(network, randomWeights(network, 2), weightsIn);
    const out = join(directory, 'folded.cfg');
    const weightsOut = join(directory, 'folded.weights');
    await run(
      'transform',
      cfg,
      '--fold-bn',
      '--weights',
      weightsIn,
      '--weights-out',
      weightsOut,
      '--out',
      out,
    );
    const folded = loadCfg(out);
    expect(folded.layers.some((layer) => layer.type === 'convolutional' && layer.batchNormalize)).toBe(false);
    expect(
      loadWeights(folded, weightsOut).layers.every((layer) => layer === null || layer.batchNorm === null),
    ).toBe(true);
  });

  it('plan prints the trtexec command and cache key', async () => {
    const onnx = join(directory, 'model.onnx');
    writeFileSync(onnx, 'not really onnx, only hashed');
    const text = await run(
      'plan',
      '--model',
      onnx,
      '--arch',
      'sm_53',
      '--jetpack',
      '4.6.1',
      '--precision',
      'fp16',
      '--workspace',
      '512',
    );
    expect(text).toMatch(
      new RegExp(`^trtexec --onnx=${onnx} --saveEngine=\\./[0-9a-f]{64}\\.engine --workspace=512 --fp16\\n`),
    );
    expect(text).toContain('only runs on sm_53');
    await expect(
      run('plan', '--model', onnx, '--arch', 'sm_53', '--tensorrt', '8.2', '--precision', 'int8'),
    ).rejects.toThrow('has no INT8 support');
  });
});
