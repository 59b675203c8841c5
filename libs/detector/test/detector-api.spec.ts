import { join } from 'node:path';
import { createDetector, DetectorError, type Detector } from '@emofleet/detector';
import {
  FIXTURES,
  networkWithRandomWeights,
  randomBytes,
  randomFloats,
  type TestNetwork,
} from './support/networks';

const passthrough: TestNetwork = networkWithRandomWeights(join(FIXTURES, 'passthrough.cfg'), 7);
const frame = randomBytes(200 * 120 * 3, 3);
const frameDescription = { width: 200, height: 120, format: 'rgb24' } as const;

async function expectCode(promise: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DetectorError);
  expect((error as DetectorError).code).toBe(code);
  if (message) expect((error as DetectorError).message).toMatch(message);
}

describe('createDetector', () => {
  let detector: Detector;
  beforeAll(async () => {
    detector = await createDetector({
      cfg: passthrough.cfg,
      weights: passthrough.weights,
      names: ['happiness', 'sadness', 'surprise', 'anger'],
      threads: 2,
    });
  });
  afterAll(() => detector.dispose());

  it('describes the network: layers, shapes, planned activation memory', () => {
    const { info } = detector;
    expect(info.backend).toBe('cpu');
    expect(info.input).toEqual({ channels: 3, height: 128, width: 128 });
    expect(info.rawOutput).toEqual({ channels: 45, height: 8, width: 8 });
    expect(info.layers).toHaveLength(18);
    expect(info.layers[13]).toMatchObject({ type: 'reorg', output: { channels: 64, height: 8, width: 8 } });
    expect(info.layers[17]?.type).toBe('region');
    expect(info.layers[16]).toMatchObject({ type: 'convolutional', activation: 'linear', cfgLine: 103 });
    expect(info.activationBytes).toBeGreaterThan(0);
    expect(info.activationBytes).toBeLessThan(info.unplannedActivationBytes);
    expect(info.fused).toBe(true);
    expect(info.threads).toBe(2);
    expect(info.weightsHeader).toMatchObject({ major: 0, minor: 2 });
  });

  it('detects with labels and boxes in source pixels', async () => {
    const detections = await detector.detect(frame, frameDescription, {
      scoreThreshold: 0.05,
      iouThreshold: 0.45,
    });
    expect(detections.length).toBeGreaterThan(0);
    for (const d of detections) {
      expect(['happiness', 'sadness', 'surprise', 'anger']).toContain(d.label);
      expect(d.score).toBeGreaterThanOrEqual(0.05);
      expect(d.score).toBeLessThanOrEqual(1);
      expect(d.box.width).toBeGreaterThan(0);
      // centers land inside the 200x120 frame's letterboxed area, give or take the box's own jitter
      expect(d.box.x + d.box.width / 2).toBeGreaterThan(-50);
      expect(d.box.x + d.box.width / 2).toBeLessThan(250);
    }
    const scores = detections.map((d) => d.score);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
  });

  it('applies the score threshold and per-class NMS', async () => {
    const all = await detector.detect(frame, frameDescription, { scoreThreshold: 0.02, iouThreshold: 1 });
    const suppressed = await detector.detect(frame, frameDescription, {
      scoreThreshold: 0.02,
      iouThreshold: 0.3,
    });
    const strict = await detector.detect(frame, frameDescription, { scoreThreshold: 0.2, iouThreshold: 1 });
    expect(suppressed.length).toBeLessThan(all.length);
    expect(strict.length).toBeLessThan(all.length);
    expect(strict.every((d) => d.score >= 0.2)).toBe(true);
  });

  it('accepts every pixel format, and BGR24 equals the channel-swapped RGB24', async () => {
    const bgr = Buffer.from(frame);
    for (let i = 0; i < bgr.length; i += 3) [bgr[i], bgr[i + 2]] = [bgr[i + 2] ?? 0, bgr[i] ?? 0];
    const fromRgb = await detector.preprocess(frame, frameDescription);
    const fromBgr = await detector.preprocess(bgr, { ...frameDescription, format: 'bgr24' });
    expect(fromBgr).toEqual(fromRgb);
    const yuv = randomBytes(200 * 120 * 1.5, 5);
    for (const format of ['nv12', 'i420'] as const) {
      expect(Array.isArray(await detector.detect(yuv, { width: 200, height: 120, format }))).toBe(true);
    }
  });

  it('returns the raw layer outputs', async () => {
    const input = randomFloats(3 * 128 * 128, 9);
    const raw = await detector.forwardRaw(input);
    expect(raw).toHaveLength(45 * 8 * 8);
    const reorg = await detector.forwardRaw(input, { layer: 13 });
    expect(reorg).toHaveLength(64 * 8 * 8);
    await expectCode(detector.forwardRaw(input, { layer: 40 }), 'EMOFLEET_BAD_ARGUMENT', /layer 40/);
    await expectCode(
      detector.forwardRaw(new Float32Array(5)),
      'EMOFLEET_BAD_ARGUMENT',
      /5 floats.*3x128x128/,
    );
  });

  it('gives the same answers to concurrent calls as to sequential ones', async () => {
    const frames = [0, 1, 2, 3, 4, 5].map((seed) => randomBytes(200 * 120 * 3, 100 + seed));
    const sequential: unknown[] = [];
    for (const f of frames)
      sequential.push(await detector.detect(f, frameDescription, { scoreThreshold: 0.05 }));
    const concurrent = await Promise.all(
      frames.map((f) => detector.detect(f, frameDescription, { scoreThreshold: 0.05 })),
    );
    expect(concurrent).toEqual(sequential);
  });

  it('rejects bad frames with EMOFLEET_BAD_FRAME', async () => {
    await expectCode(
      detector.detect(frame.subarray(0, 100), frameDescription),
      'EMOFLEET_BAD_FRAME',
      /rgb24 200x120 needs 72000 bytes, got 100/,
    );
    await expectCode(
      detector.detect(frame, { width: 200, height: 120, format: 'yuyv' as 'rgb24' }),
      'EMOFLEET_BAD_FRAME',
      /unknown format 'yuyv'/,
    );
    await expectCode(
      detector.detect(frame, { width: 0, height: 120, format: 'rgb24' }),
      'EMOFLEET_BAD_FRAME',
    );
    await expectCode(
      detector.detect(frame, frameDescription, { scoreThreshold: 2 }),
      'EMOFLEET_BAD_ARGUMENT',
      /within 0..1/,
    );
  });
});

describe('fusion and pipelining switches', () => {
  it('give identical outputs with fusion off, pipelining off and one thread', async () => {
    const input = randomFloats(3 * 128 * 128, 11);
    const variants = await Promise.all([
      createDetector({ cfg: passthrough.cfg, weights: passthrough.weights, threads: 2 }),
      createDetector({ cfg: passthrough.cfg, weights: passthrough.weights, threads: 1, fuse: false }),
      createDetector({ cfg: passthrough.cfg, weights: passthrough.weights, pipelined: false }),
    ]);
    try {
      const [reference, ...others] = await Promise.all(variants.map((d) => d.forwardRaw(input)));
      expect(variants[1]?.info.fused).toBe(false);
      for (const other of others) {
        for (let i = 0; i < (reference?.length ?? 0); i += 1) {
          expect(Math.abs((other[i] ?? 0) - (reference?.[i] ?? 0))).toBeLessThanOrEqual(1e-4);
        }
      }
    } finally {
      variants.forEach((d) => d.dispose());
    }
  });
});

describe('errors', () => {
  it('reports cfg errors with EMOFLEET_BAD_CFG and the line', async () => {
    const broken = passthrough.cfg.replace('filters=32', 'filters=thirty-two');
    await expectCode(
      createDetector({ cfg: broken, weights: passthrough.weights }),
      'EMOFLEET_BAD_CFG',
      /^cfg:\d+: \[convolutional\] filters='thirty-two' is not an integer/,
    );
    await expectCode(
      createDetector({ cfg: '/nonexistent/x.cfg', weights: passthrough.weights }),
      'EMOFLEET_BAD_CFG',
    );
  });

  it('reports weights errors with EMOFLEET_BAD_WEIGHTS, the sizes and the layer', async () => {
    const short = passthrough.weights.subarray(0, passthrough.weights.length - 1000);
    await expectCode(
      createDetector({ cfg: passthrough.cfg, weights: short }),
      'EMOFLEET_BAD_WEIGHTS',
      new RegExp(`expected ${passthrough.weights.length} bytes, got ${short.length}, ran out in layer 16`),
    );
  });

  it('rejects bad options with EMOFLEET_BAD_ARGUMENT and an absent backend with EMOFLEET_UNSUPPORTED', async () => {
    await expectCode(
      createDetector({ cfg: passthrough.cfg, weights: passthrough.weights, threads: -1 }),
      'EMOFLEET_BAD_ARGUMENT',
    );
    await expectCode(
      createDetector({
        cfg: passthrough.cfg,
        weights: passthrough.weights,
        winograd: 'f3' as unknown as 'f4',
      }),
      'EMOFLEET_BAD_ARGUMENT',
      /winograd must be 'auto', 'off', 'f2' or 'f4', got 'f3'/,
    );
    await expectCode(
      createDetector({ cfg: passthrough.cfg, weights: passthrough.weights, backend: 'tensorrt' }),
      'EMOFLEET_UNSUPPORTED',
      /TensorRT/,
    );
  });
});

describe('dispose', () => {
  it('lets running calls finish, then rejects with EMOFLEET_DISPOSED', async () => {
    const detector = await createDetector({ cfg: passthrough.cfg, weights: passthrough.weights });
    const running = detector.detect(frame, frameDescription);
    detector.dispose();
    detector.dispose();
    expect(Array.isArray(await running)).toBe(true);
    expect(detector.disposed).toBe(true);
    await expectCode(detector.detect(frame, frameDescription), 'EMOFLEET_DISPOSED');
    await expectCode(detector.forwardRaw(new Float32Array(3 * 128 * 128)), 'EMOFLEET_DISPOSED');
  });

  it('survives a load/dispose loop', async () => {
    for (let i = 0; i < 10; i += 1) {
      const detector = await createDetector({
        cfg: passthrough.cfg,
        weights: passthrough.weights,
        threads: 1,
      });
      await detector.detect(frame, frameDescription);
      detector.dispose();
    }
  });
});
