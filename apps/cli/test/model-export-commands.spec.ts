/**
 * @jest-environment ../../libs/darknet/test/support/onnxruntime-environment.js
 */
import type { Command } from 'commander';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { openCvAvailable, parseCfg, randomWeights, saveWeights } from '@emofleet/darknet';
import { CliError } from '../src/cli-error';
import { registerConvertCommand } from '../src/commands/model/convert';
import { registerVerifyCommand, VERIFY_MISMATCH_EXIT_CODE } from '../src/commands/model/verify';
import { runCommand } from './support/run-command';

const CFG = `[net]
width=16
height=16
channels=3

[convolutional]
batch_normalize=1
filters=8
size=3
stride=1
pad=1
activation=leaky

[maxpool]
size=2
stride=1

[route]
layers=-1,-2

[reorg]
stride=2

[convolutional]
filters=14
size=1
stride=1
pad=1
activation=linear

[region]
anchors=1,1.5,2,2.5
classes=2
coords=4
num=2
softmax=1
`;

async function run(...args: string[]): Promise<string> {
  const register = (program: Command) => {
    registerConvertCommand(program);
    registerVerifyCommand(program);
  };
  return (await runCommand(register, args)).stdout;
}

const itWithOpenCv = openCvAvailable() ? it : it.skip;

describe('emofleet model convert / verify', () => {
  let directory: string;
  let cfg: string;
  let weights: string;
  let otherWeights: string;
  beforeAll(() => {
    directory = mkdtempSync(join(tmpdir(), 'cli-export-'));
    cfg = join(directory, 'small.cfg');
    weights = join(directory, 'small.weights');
    otherWeights = join(directory, 'other.weights');
    writeFileSync(cfg, CFG);
    const network = parseCfg(CFG, cfg);
    saveWeights(network, randomWeights(network, 1), weights);
    saveWeights(network, randomWeights(network, 2), otherWeights);
  });
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it('converts to ONNX and verifies it against the reference', async () => {
    const onnx = join(directory, 'small.onnx');
    expect(await run('convert', cfg, weights, '--to', 'onnx', '--out', onnx)).toBe(
      `wrote ${onnx}\ninput: input 1x3x16x16 RGB 0..1; outputs: raw = layer 4 (14x8x8)\n`,
    );
    const report = await run('verify', cfg, weights, onnx, '--inputs', '2');
    expect(report).toMatch(
      /^raw \(layer 4, 14x8x8\): max abs \S+, max rel \S+\nOK: onnx export vs reference on 2 seeded inputs/,
    );
  });

  itWithOpenCv('converts to Caffe (prototxt + caffemodel) and verifies it with OpenCV', async () => {
    const stem = join(directory, 'small');
    const text = await run('convert', cfg, weights, '--to', 'caffe', '--out', `${stem}.prototxt`);
    expect(text).toContain(`wrote ${stem}.prototxt and ${stem}.caffemodel`);
    expect(existsSync(`${stem}.caffemodel`)).toBe(true);
    expect(await run('verify', cfg, weights, `${stem}.caffemodel`)).toContain(
      'OK: caffe export vs reference on 3 seeded inputs',
    );
  });

  it('exits with the mismatch code when the export does not match the weights', async () => {
    const onnx = join(directory, 'other.onnx');
    await run('convert', cfg, otherWeights, '--to', 'onnx', '--out', onnx);
    const failure = run('verify', cfg, weights, onnx, '--tolerance', '1e-4');
    await expect(failure).rejects.toThrow(CliError);
    await expect(failure).rejects.toMatchObject({ exitCode: VERIFY_MISMATCH_EXIT_CODE });
    await expect(failure).rejects.toThrow(/above the tolerance 0.0001/);
  });

  it('rejects an unknown format and bad numbers', async () => {
    await expect(run('convert', cfg, weights, '--to', 'tflite', '--out', 'x')).rejects.toThrow(
      /Allowed choices are onnx, caffe/,
    );
    await expect(run('verify', cfg, weights, 'x.onnx', '--inputs', '0')).rejects.toThrow(
      "'0' is not a positive integer",
    );
    await expect(run('verify', cfg, weights, 'x.onnx', '--tolerance', 'abc')).rejects.toThrow(
      "'abc' is not a non-negative number",
    );
  });
});
