/**
 * Child process of the benchmark: measures one network on one engine and prints one JSON BenchRow.
 *   node --import tsx measure-engine.ts <network> <emofleet|emofleet-unfused|emofleet-detect|onnxruntime|opencv>
 *     <seconds> <threads>
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportOnnx, parseCfg, randomWeights, serialiseWeights, type Network } from '@emofleet/darknet';
import { createDetector } from '@emofleet/detector';
import * as ort from 'onnxruntime-node';
import { BENCH_NETWORKS, MODELS_DIR, WEIGHTS_SEED, isBenchNetwork, type BenchRow } from './networks';
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

async function main(): Promise<void> {
  const [networkName = '', engine = '', secondsText = '8', threadsText = '0'] = process.argv.slice(2);
  if (!isBenchNetwork(networkName)) throw new Error(`unknown network '${networkName}'`);
  const seconds = Number(secondsText);
  const threads = Number(threadsText);
  const cfgPath = join(MODELS_DIR, BENCH_NETWORKS[networkName]);
  const cfgText = readFileSync(cfgPath, 'utf8');
  const network = parseCfg(cfgText, cfgPath);
  const weights = randomWeights(network, WEIGHTS_SEED);
  const weightsBytes = Buffer.from(serialiseWeights(network, weights));
  const [channels, height, width] = network.inputShape;
  const input = new Float32Array(channels * height * width).map((_, i) => ((i * 2654435761) % 1000) / 1000);
  const flops = networkFlops(network);
  const base = { network: networkName, threads };
  let row: BenchRow;

  if (engine === 'emofleet' || engine === 'emofleet-unfused' || engine === 'emofleet-detect') {
    const fused = engine !== 'emofleet-unfused';
    const detector = await createDetector({ cfg: cfgText, weights: weightsBytes, threads, fuse: fused });
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
        ...timing,
        rssMb: peakRssMb(),
        gflops: 0,
        ...activation,
      };
    }
    detector.dispose();
  } else if (engine === 'onnxruntime') {
    const session = await ort.InferenceSession.create(exportOnnx(network, weights), {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
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
      writeFileSync(join(dir, 'net.weights'), weightsBytes);
      const output = execFileSync(
        PYTHON,
        [
          ORACLE,
          'bench',
          '--cfg',
          cfgPath,
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
