/**
 * Child process of the benchmark: measures one network on one engine and prints one JSON BenchRow.
 *   node --import tsx measure-engine.ts <network> <emofleet|emofleet-im2col|emofleet-f2|emofleet-f4|
 *     emofleet-unfused|emofleet-detect|emofleet-int8|
 *     onnxruntime|onnxruntime-int8|opencv> <seconds> <threads>
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportOnnx, exportQdqOnnx, type Network } from '@emofleet/darknet';
import { createDetector, int8ConvolutionsOf } from '@emofleet/detector';
import * as ort from 'onnxruntime-node';
import { agreementWithFp32, benchPlan, fp32References } from './int8-setup';
import { isBenchNetwork, loadBenchModel, type BenchRow } from './networks';
import { peakRssMb, summarise, timeSequential } from './timing';

const ORACLE = join(__dirname, '..', 'test', 'oracle', 'opencv_oracle.py');
const PYTHON = process.env['EMOFLEET_PYTHON'] ?? '/usr/bin/python3';

/** 2 x multiply-accumulates of the convolutions: the work every engine does, whatever it reports. */
function networkFlops(network: Network): number {
  let flops = 0;
  for (const layer of network.layers) {
    if (layer.type === 'convolutional') {
      const [outC, outH, outW] = layer.outputShape;
      const inC = layer.inputShape[0];
      flops += 2 * (inC / layer.groups) * layer.size * layer.size * outC * outH * outW;
    }
  }
  return flops;
}

/** The same onnxruntime-node settings for the FP32 and the INT8 rows. */
function onnxruntimeSession(model: Uint8Array, threads: number): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(model, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
}

async function main(): Promise<void> {
  const [networkName = '', engine = '', secondsText = '8', threadsText = '0'] = process.argv.slice(2);
  if (!isBenchNetwork(networkName)) throw new Error(`unknown network '${networkName}'`);
  const seconds = Number(secondsText);
  const threads = Number(threadsText);
  const model = loadBenchModel(networkName);
  const { cfg: cfgText, network, weights, weightsBytes } = model;
  const inputOption = model.input ? { input: model.input } : {};
  const [channels, height, width] = network.inputShape;
  const input = new Float32Array(channels * height * width).map((_, i) => ((i * 2654435761) % 1000) / 1000);
  const flops = networkFlops(network);
  const base = { network: networkName, threads, precision: 'fp32' as const };
  let row: BenchRow;

  const winogradModes = {
    emofleet: 'auto',
    'emofleet-detect': 'auto',
    'emofleet-unfused': 'off',
    'emofleet-im2col': 'off',
    'emofleet-f2': 'f2',
    'emofleet-f4': 'f4',
  } as const;
  if (engine in winogradModes) {
    const fused = engine !== 'emofleet-unfused';
    const winograd = winogradModes[engine as keyof typeof winogradModes];
    const detector = await createDetector({
      cfg: cfgText,
      weights: weightsBytes,
      threads,
      fuse: fused,
      winograd,
      ...inputOption,
    });
    const activation = {
      activationMb: detector.info.activationBytes / 2 ** 20,
      unplannedActivationMb: detector.info.unplannedActivationBytes / 2 ** 20,
    };
    if (engine === 'emofleet-detect') {
      // A VGA camera frame, letterboxed natively; two calls in flight so preprocessing overlaps inference.
      const frame = Buffer.alloc(640 * 480 * 3, 0).map((_, i) => (i * 7919) % 251);
      const description = { width: 640, height: 480, format: 'rgb24' } as const;
      for (let i = 0; i < 2; i += 1) await detector.detect(frame, description);
      const samples: number[] = [];
      const start = process.hrtime.bigint();
      const elapsed = (): number => Number(process.hrtime.bigint() - start) / 1e9;
      const lane = async (): Promise<void> => {
        while (samples.length < 5 || elapsed() < seconds) {
          const before = process.hrtime.bigint();
          await detector.detect(frame, description);
          samples.push(Number(process.hrtime.bigint() - before) / 1e6);
        }
      };
      await Promise.all([lane(), lane()]);
      const timing = summarise(samples, elapsed());
      row = {
        ...base,
        engine: 'emofleet',
        mode: 'detect',
        fused,
        ...timing,
        rssMb: peakRssMb(),
        gflops: 0,
        ...activation,
      };
    } else {
      const timing = await timeSequential(() => detector.forwardRaw(input), seconds);
      row = {
        ...base,
        engine: 'emofleet',
        mode: 'forward',
        fused,
        winograd,
        ...timing,
        rssMb: peakRssMb(),
        gflops: 0,
        ...activation,
      };
    }
    detector.dispose();
  } else if (engine === 'emofleet-int8' || engine === 'onnxruntime-int8') {
    const plan = await benchPlan(
      networkName,
      { cfg: cfgText, weights: weightsBytes, ...inputOption },
      threads,
    );
    const references = await fp32References({ cfg: cfgText, weights: weightsBytes, ...inputOption }, threads);
    if (engine === 'emofleet-int8') {
      const detector = await createDetector({ cfg: cfgText, weights: weightsBytes, threads, int8Plan: plan });
      const actual: Float32Array[] = [];
      for (const tensor of references.inputs) actual.push(await detector.forwardRaw(tensor));
      const timing = await timeSequential(() => detector.forwardRaw(input), seconds);
      row = {
        ...base,
        engine: 'emofleet',
        mode: 'forward',
        precision: 'int8',
        ...agreementWithFp32(network, actual, references.outputs),
        fused: true,
        ...timing,
        rssMb: peakRssMb(),
        gflops: 0,
        activationMb: detector.info.activationBytes / 2 ** 20,
        unplannedActivationMb: detector.info.unplannedActivationBytes / 2 ** 20,
      };
      detector.dispose();
    } else {
      const session = await onnxruntimeSession(
        exportQdqOnnx(network, weights, int8ConvolutionsOf(plan)),
        threads,
      );
      const run = async (tensor: Float32Array) =>
        (await session.run({ input: new ort.Tensor('float32', tensor, [1, channels, height, width]) }))['raw']
          ?.data as Float32Array;
      const actual: Float32Array[] = [];
      for (const tensor of references.inputs) actual.push(Float32Array.from(await run(tensor)));
      const timing = await timeSequential(() => run(input), seconds);
      row = {
        ...base,
        engine: 'onnxruntime',
        mode: 'forward',
        precision: 'int8',
        ...agreementWithFp32(network, actual, references.outputs),
        fused: true,
        ...timing,
        rssMb: peakRssMb(),
        gflops: 0,
      };
      await session.release();
    }
  } else if (engine === 'onnxruntime') {
    const session = await onnxruntimeSession(exportOnnx(network, weights), threads);
    const feeds = {
      [session.inputNames[0] ?? 'input']: new ort.Tensor('float32', input, [1, channels, height, width]),
    };
    const timing = await timeSequential(() => session.run(feeds), seconds);
    row = {
      ...base,
      engine: 'onnxruntime',
      mode: 'forward',
      fused: true,
      ...timing,
      rssMb: peakRssMb(),
      gflops: 0,
    };
    await session.release();
  } else if (engine === 'opencv') {
    const dir = mkdtempSync(join(tmpdir(), 'emofleet-bench-'));
    try {
      writeFileSync(join(dir, 'net.cfg'), cfgText);
      writeFileSync(join(dir, 'net.weights'), weightsBytes);
      const output = execFileSync(
        PYTHON,
        [
          ORACLE,
          'bench',
          '--cfg',
          join(dir, 'net.cfg'),
          '--weights',
          join(dir, 'net.weights'),
          '--shape',
          `${channels},${height},${width}`,
          '--threads',
          String(threads),
          '--seconds',
          String(seconds),
        ],
        { encoding: 'utf8' },
      );
      const measured = JSON.parse(output) as {
        fps: number;
        p50Ms: number;
        p99Ms: number;
        rssMb: number;
        iterations: number;
      };
      row = { ...base, engine: 'opencv', mode: 'forward', fused: true, ...measured, gflops: 0 };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  } else {
    throw new Error(`unknown engine '${engine}'`);
  }
  row.gflops = row.mode === 'forward' ? (flops * row.fps) / 1e9 : 0;
  process.stdout.write(`${JSON.stringify(row)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
