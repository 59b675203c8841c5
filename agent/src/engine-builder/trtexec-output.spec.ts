import { trtexecTimingSchema } from '@emofleet/protocol';
import { logTail, parseTrtexecTiming, parseTrtexecVersion } from './trtexec-output';

/** TensorRT 8.x layout (JetPack 4.6 / 5.x): one line per quantity after the summary heading. */
const TENSORRT_8_OUTPUT = `&&&& RUNNING TensorRT.trtexec [TensorRT v8201] # /usr/src/tensorrt/bin/trtexec --onnx=model.onnx --saveEngine=./k.engine --fp16
[03/02/2025-14:10:01] [I] === Model Options ===
[03/02/2025-14:13:05] [I] Engine built in 183.52 sec.
[03/02/2025-14:13:09] [I] === Performance summary ===
[03/02/2025-14:13:09] [I] Throughput: 58.25 qps
[03/02/2025-14:13:09] [I] Latency: min = 16.75 ms, max = 21.5 ms, mean = 17.125 ms, median = 17 ms, percentile(99%) = 20.25 ms
[03/02/2025-14:13:09] [I] End-to-End Host Latency: min = 30.5 ms, max = 40 ms, mean = 33.25 ms, median = 33 ms, percentile(99%) = 39.5 ms
[03/02/2025-14:13:09] [I] Enqueue Time: min = 1.5 ms, max = 3 ms, mean = 2 ms, median = 2 ms, percentile(99%) = 2.75 ms
[03/02/2025-14:13:09] [I] GPU Compute Time: min = 16.5 ms, max = 21 ms, mean = 16.875 ms, median = 16.75 ms, percentile(99%) = 20 ms
[03/02/2025-14:13:09] [I] Total Host Walltime: 3.0125 s
[03/02/2025-14:13:09] [I] Total GPU Compute Time: 2.95 s
&&&& PASSED TensorRT.trtexec [TensorRT v8201] # /usr/src/tensorrt/bin/trtexec --onnx=model.onnx`;

/** TensorRT 7.1 layout (JetPack 4.4/4.5): headings, then one statistic per line. */
const TENSORRT_7_OUTPUT = `&&&& RUNNING TensorRT.trtexec # ./trtexec --onnx=model.onnx --explicitBatch --saveEngine=k.engine
[08/14/2020-08:22:30] [I] Host Latency
[08/14/2020-08:22:30] [I] min: 24.5 ms (end to end 24.75 ms)
[08/14/2020-08:22:30] [I] max: 30.25 ms (end to end 30.5 ms)
[08/14/2020-08:22:30] [I] mean: 25.5 ms (end to end 25.75 ms)
[08/14/2020-08:22:30] [I] median: 25.25 ms (end to end 25.5 ms)
[08/14/2020-08:22:30] [I] percentile: 29.5 ms at 99% (end to end 29.75 ms at 99%)
[08/14/2020-08:22:30] [I] throughput: 39.125 qps
[08/14/2020-08:22:30] [I] walltime: 3.0625 s
[08/14/2020-08:22:30] [I] Enqueue Time
[08/14/2020-08:22:30] [I] min: 2.5 ms
[08/14/2020-08:22:30] [I] max: 4 ms
[08/14/2020-08:22:30] [I] median: 3 ms
[08/14/2020-08:22:30] [I] GPU Compute
[08/14/2020-08:22:30] [I] min: 24 ms
[08/14/2020-08:22:30] [I] max: 29.75 ms
[08/14/2020-08:22:30] [I] mean: 25 ms
[08/14/2020-08:22:30] [I] median: 24.75 ms
[08/14/2020-08:22:30] [I] percentile: 29 ms at 99%
[08/14/2020-08:22:30] [I] total compute time: 2.95 s
&&&& PASSED TensorRT.trtexec # ./trtexec --onnx=model.onnx`;

describe('parseTrtexecTiming', () => {
  it('reads the TensorRT 8 performance summary, host latency rather than end-to-end', () => {
    const timing = parseTrtexecTiming(TENSORRT_8_OUTPUT);
    expect(timing).toEqual({
      throughputQps: 58.25,
      latencyMs: { min: 16.75, max: 21.5, mean: 17.125, median: 17, p99: 20.25 },
      gpuComputeMs: { min: 16.5, max: 21, mean: 16.875, median: 16.75, p99: 20 },
      totalHostWalltimeSeconds: 3.0125,
    });
    expect(trtexecTimingSchema.safeParse(timing).success).toBe(true);
  });

  it('reads the 90 % and 95 % percentiles that newer releases add', () => {
    const timing = parseTrtexecTiming(
      '[I] Latency: min = 1 ms, max = 4 ms, mean = 2 ms, median = 2 ms, percentile(90%) = 3 ms, ' +
        'percentile(95%) = 3.5 ms, percentile(99%) = 3.75 ms',
    );
    expect(timing.latencyMs).toEqual({ min: 1, max: 4, mean: 2, median: 2, p90: 3, p95: 3.5, p99: 3.75 });
  });

  it('reads the TensorRT 7 block layout', () => {
    expect(parseTrtexecTiming(TENSORRT_7_OUTPUT)).toEqual({
      throughputQps: 39.125,
      latencyMs: { min: 24.5, max: 30.25, mean: 25.5, median: 25.25, p99: 29.5 },
      gpuComputeMs: { min: 24, max: 29.75, mean: 25, median: 24.75, p99: 29 },
      totalHostWalltimeSeconds: 3.0625,
    });
  });

  it('leaves out what a failed or truncated run did not print', () => {
    expect(parseTrtexecTiming('[E] Failed to parse onnx file\n&&&& FAILED TensorRT.trtexec')).toEqual({});
    expect(parseTrtexecTiming('[I] Latency: min = 1 ms, max = 2 ms')).toEqual({});
  });
});

describe('parseTrtexecVersion', () => {
  it.each([
    ['&&&& RUNNING TensorRT.trtexec [TensorRT v8201] # trtexec', '8.2.1'],
    ['&&&& RUNNING TensorRT.trtexec [TensorRT v8401] # trtexec', '8.4.1'],
    ['&&&& RUNNING TensorRT.trtexec [TensorRT v100300] # trtexec', '10.3.0'],
  ])('%s → %s', (line, version) => {
    expect(parseTrtexecVersion(`${line}\n[I] more`)).toBe(version);
  });

  it('is undefined when trtexec did not name its version (TensorRT 7)', () => {
    expect(parseTrtexecVersion(TENSORRT_7_OUTPUT)).toBeUndefined();
  });
});

describe('logTail', () => {
  it('keeps short logs whole, without trailing white space', () => {
    expect(logTail('a\nb\n\n', 100)).toBe('a\nb');
  });

  it('keeps the end, starting at a line when one starts near the cut', () => {
    const log = Array.from({ length: 100 }, (_, index) => `line ${index}`).join('\n');
    const tail = logTail(log, 60);
    expect(Buffer.byteLength(tail)).toBeLessThanOrEqual(60);
    expect(tail.endsWith('line 99')).toBe(true);
    expect(tail.startsWith('line ')).toBe(true);
  });

  it('never splits a multi-byte character', () => {
    const tail = logTail('é'.repeat(50), 11);
    expect(tail).toBe('é'.repeat(5));
  });
});
