import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCfg, randomWeights, readWeights, serialiseWeights } from '@emofleet/darknet';
import { UnrecoverableError } from 'bullmq';
import { convertInThread } from '../src/pipeline/convert-in-thread';
import { type ConversionEvent, type ConversionInput } from '../src/pipeline/convert-work';

jest.setTimeout(180_000);

const MODELS = join(__dirname, '../../../libs/darknet/models');
const CFG_NAME = 'yolov2-tiny-expression.cfg';
const CFG = readFileSync(join(MODELS, CFG_NAME), 'utf8');
const NETWORK = parseCfg(CFG, CFG_NAME);
const WEIGHTS = serialiseWeights(NETWORK, randomWeights(NETWORK, 2026));

const input = (overrides: Partial<ConversionInput> = {}): ConversionInput => ({
  cfgText: CFG,
  cfgFileName: CFG_NAME,
  weights: new Uint8Array(WEIGHTS),
  weightsFileName: 'tiny.weights',
  transforms: [{ kind: 'fold-batch-norm' }],
  stem: 'tiny-v1',
  ...overrides,
});

/**
 * `convert`'s CPU-bound part in its worker thread (the script from the sources through tsx here; the built
 * control plane runs dist/pipeline/convert-thread.js): the paper's tiny network exported and verified, events in
 * order, errors as the job's errors, and this thread's event loop free all along.
 */
describe('convert in a worker thread', () => {
  it("keeps this thread's event loop responsive while it converts the paper's tiny network", async () => {
    const events: ConversionEvent[] = [];
    const conversion = input();
    // A 10 ms tick: the longest gap between two ticks is how long this thread's event loop was blocked.
    let last = performance.now();
    let longestGap = 0;
    let ticks = 0;
    const ticker = setInterval(() => {
      const now = performance.now();
      longestGap = Math.max(longestGap, now - last);
      last = now;
      ticks++;
    }, 10);
    let output;
    try {
      output = await convertInThread(conversion, (event) => {
        events.push(event);
        return Promise.resolve();
      });
    } finally {
      clearInterval(ticker);
    }

    // Not a speed bound: on this thread the conversion blocks the loop for seconds at a time (one reference
    // forward pass per format is one synchronous call), while relaying the thread's messages takes
    // milliseconds. 1 s is 100 ticks, generous for a loaded CI machine, and far below BullMQ's lock renewal
    // period (half the 30 s lock duration), which is what blocking used to break.
    process.stdout.write(`convert in a thread: ${ticks} ticks, longest gap ${longestGap.toFixed(0)} ms\n`);
    expect(longestGap).toBeLessThan(1000);

    // The weights moved to the thread rather than being copied there.
    expect(conversion.weights.byteLength).toBe(0);
    expect(output.files.map((file) => [file.role, file.fileName])).toEqual([
      ['onnx', 'tiny-v1.onnx'],
      ['caffe-prototxt', 'tiny-v1.prototxt'],
      ['caffe-model', 'tiny-v1.caffemodel'],
    ]);
    for (const file of output.files) {
      expect(Buffer.isBuffer(file.bytes)).toBe(true);
      expect(file.bytes.length).toBeGreaterThan(0);
    }
    expect(output.verified.map((report) => report.format)).toEqual(['onnx', 'caffe']);
    for (const report of output.verified) expect(report.maxRel).toBeLessThanOrEqual(report.tolerance);

    const percents = events.flatMap((event) => (event.type === 'progress' ? [event.percent] : []));
    expect(percents[0]).toBe(20);
    expect(percents.at(-1)).toBe(95);
    expect([...percents].sort((a, b) => a - b)).toEqual(percents);
    const lines = events.flatMap((event) => (event.type === 'log' ? [event.line] : []));
    expect(lines[0]).toMatch(/^folded batch norm/);
    expect(lines.join('\n')).toMatch(/OK: onnx export vs reference/);
    expect(lines.join('\n')).toMatch(/OK: caffe export vs reference/);
    const transformed = events.find((event) => event.type === 'transformed');
    expect(transformed?.type === 'transformed' && transformed.cfg).toMatch(/^\[net\]/);
  });

  it('fails with the error a conversion in this thread would throw', async () => {
    const truncated = WEIGHTS.subarray(0, WEIGHTS.length - 10);
    let expected: unknown;
    try {
      readWeights(NETWORK, Buffer.from(truncated), 'tiny.weights');
    } catch (error) {
      expected = error;
    }
    expect(expected).toBeInstanceOf(Error);

    const failure = await convertInThread(input({ weights: new Uint8Array(truncated) }), () =>
      Promise.resolve(),
    ).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(Error);
    expect(failure).not.toBeInstanceOf(UnrecoverableError);
    expect((failure as Error).message).toBe((expected as Error).message);
    expect((failure as Error).name).toBe((expected as Error).name);
  });

  it('keeps bad input unrecoverable, after the events that came before it', async () => {
    const events: ConversionEvent[] = [];
    const failure = await convertInThread(
      input({ transforms: [{ kind: 'replace-3x3-with-1x1', paperLayers: [13] }] }),
      async (event) => {
        // A slow consumer: the error still comes after every event the thread sent before it.
        await new Promise((resolve) => setTimeout(resolve, 20));
        events.push(event);
      },
    ).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(UnrecoverableError);
    expect((failure as Error).message).toMatch(/^nothing to export: replace-3x3-with-1x1/);
    expect(events.map((event) => event.type)).toEqual([
      'progress',
      'log',
      'progress',
      'transformed',
      'progress',
    ]);
    const transformed = events[3];
    expect(transformed?.type === 'transformed' && transformed.weights).toBeNull();
  });

  it('fails the conversion when storing one of its events fails', async () => {
    const failure = await convertInThread(input(), (event) =>
      event.type === 'log' ? Promise.reject(new Error('artifact store unavailable')) : Promise.resolve(),
    ).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect((failure as Error).message).toBe('artifact store unavailable');
  });
});
