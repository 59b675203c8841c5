/**
 * Parity with OpenCV DNN's darknet importer (Debian python3-opencv, cv2.dnn.readNetFromDarknet) on seeded
 * random weights. Tolerance: max|ours - opencv| <= 1e-4 * max(1, max|opencv|) over the whole tensor.
 */
import { join } from 'node:path';
import { createDetector, type Detector } from '@emofleet/detector';
import {
  FIXTURES,
  PAPER_MODELS,
  networkWithRandomWeights,
  randomBytes,
  randomFloats,
  relativeError,
} from './support/networks';
import { opencvForward } from './support/opencv-oracle';

const TOLERANCE = 1e-4;

// winograd: the default per-layer choice (the paper networks run their mid/deep 3x3 layers as Winograd), plus
// tiny with F(4x4,3x3) forced on every 3x3 layer (the larger rounding error) and with Winograd off.
const networks = [
  { cfg: join(PAPER_MODELS, 'yolov2-tiny-expression.cfg'), seed: 1, winograd: 'auto' },
  { cfg: join(PAPER_MODELS, 'yolov2-tiny-expression.cfg'), seed: 1, winograd: 'f4' },
  { cfg: join(PAPER_MODELS, 'yolov2-tiny-expression.cfg'), seed: 1, winograd: 'off' },
  { cfg: join(PAPER_MODELS, 'yolov2-expression.cfg'), seed: 2, winograd: 'auto' },
  { cfg: join(PAPER_MODELS, 'yolov2-expression-1x1.cfg'), seed: 3, winograd: 'auto' },
  { cfg: join(FIXTURES, 'depthwise-groups.cfg'), seed: 4, winograd: 'auto' },
  { cfg: join(FIXTURES, 'passthrough.cfg'), seed: 5, winograd: 'auto' },
] as const;

describe.each(networks)(
  'raw output of $cfg (winograd $winograd) matches OpenCV',
  ({ cfg, seed, winograd }) => {
    const network = networkWithRandomWeights(cfg, seed);
    let detector: Detector;
    beforeAll(async () => {
      detector = await createDetector({ cfg: network.cfg, weights: network.weights, threads: 2, winograd });
    }, 120_000);
    afterAll(() => detector.dispose());

    it('runs Winograd, the direct and the pointwise kernels where the mode says', () => {
      const tiles = detector.info.winogradLayers.map(({ tile }) => tile);
      if (winograd === 'off') expect(tiles).toEqual([]);
      if (winograd === 'f4') expect(new Set(tiles)).toEqual(new Set([4]));
      if (winograd === 'auto' && cfg.startsWith(PAPER_MODELS)) expect(tiles).toContain(4);
      // The first layer (3 channels, 416 wide) runs on the direct kernel, except where a mode forces im2col or a tile.
      // It is followed by a 2x2 pool, which runs fused with it.
      if (cfg.startsWith(PAPER_MODELS)) {
        expect(detector.info.directLayers).toEqual(winograd === 'auto' ? [0] : []);
        expect(detector.info.pooledDirectLayers).toEqual(winograd === 'auto' ? [0] : []);
      }
      // The deep 1x1 layers (26x26 and 13x13, 128+ filters) run on the packed-weight GEMM: YOLO v2's bottlenecks,
      // and in the 1x1 variant also the 1x1 layers that replaced 3x3 ones. The 45-filter region layers do not.
      const pointwise: Record<string, readonly number[]> = {
        'yolov2-tiny-expression.cfg': [],
        'yolov2-expression.cfg': [13, 15, 19, 21],
        'yolov2-expression-1x1.cfg': [13, 14, 15, 19, 20, 21, 22, 24],
      };
      const expected = pointwise[network.name];
      if (expected !== undefined)
        expect(detector.info.pointwiseLayers).toEqual(winograd === 'auto' ? expected : []);
    });

    it('within 1e-4 relative on a random input', async () => {
      const { channels, height, width } = detector.info.input;
      const input = randomFloats(channels * height * width, seed + 100);
      const ours = await detector.forwardRaw(input);
      const [theirs] = opencvForward(network.cfg, network.weights, [channels, height, width], input);
      expect(theirs?.shape).toEqual([
        1,
        detector.info.rawOutput.channels,
        detector.info.rawOutput.height,
        detector.info.rawOutput.width,
      ]);
      expect(relativeError(ours, theirs?.data ?? new Float32Array())).toBeLessThanOrEqual(TOLERANCE);
    }, 120_000);
  },
);

describe('decoded detections match OpenCV region output', () => {
  it.each([
    { cfg: join(PAPER_MODELS, 'yolov2-tiny-expression.cfg'), seed: 11 },
    { cfg: join(FIXTURES, 'passthrough.cfg'), seed: 12 },
  ])(
    '$cfg',
    async ({ cfg, seed }) => {
      const network = networkWithRandomWeights(cfg, seed);
      const detector = await createDetector({ cfg: network.cfg, weights: network.weights, threads: 2 });
      try {
        const { channels, height, width } = detector.info.input;
        // A frame of exactly the network size: darknet's letterbox is then the identity (scale 1, no border),
        // so OpenCV can be fed our preprocessed tensor and boxes need no letterbox correction.
        const frame = randomBytes(width * height * 3, seed);
        const description = { width, height, format: 'rgb24' } as const;
        const input = await detector.preprocess(frame, description);
        const threshold = 0.1;
        // OpenCV 4.6's importer hard-codes per-class NMS at IoU 0.4 inside its region layer: the same here.
        const ours = await detector.detect(frame, description, {
          scoreThreshold: threshold,
          iouThreshold: 0.4,
        });
        const [, region] = opencvForward(
          network.cfg,
          network.weights,
          [channels, height, width],
          input,
          threshold,
        );
        if (!region) throw new Error('OpenCV returned no region output');
        // Rows: one per cell and anchor; columns x, y, w, h (relative), objectness, objectness x class probability.
        const columns = 5 + 4;
        const theirs: Array<{
          classId: number;
          score: number;
          cx: number;
          cy: number;
          w: number;
          h: number;
        }> = [];
        for (let row = 0; row * columns < region.data.length; row += 1) {
          const at = (k: number): number => region.data[row * columns + k] ?? 0;
          for (let classId = 0; classId < 4; classId += 1) {
            const score = at(5 + classId);
            if (score > 0) {
              theirs.push({
                classId,
                score,
                cx: at(0) * width,
                cy: at(1) * height,
                w: at(2) * width,
                h: at(3) * height,
              });
            }
          }
        }
        // Scores within 1e-4 of the threshold may legitimately fall on either side of it.
        const clear = (score: number): boolean => Math.abs(score - threshold) > 1e-4;
        const sameBox = (d: (typeof ours)[number], t: (typeof theirs)[number]): boolean =>
          d.classId === t.classId &&
          Math.abs(d.box.x + d.box.width / 2 - t.cx) <= 1e-3 * width &&
          Math.abs(d.box.y + d.box.height / 2 - t.cy) <= 1e-3 * height &&
          Math.abs(d.box.width - t.w) <= 1e-3 * Math.max(1, t.w);
        const expected = theirs.filter((t) => clear(t.score));
        expect(expected.length).toBeGreaterThan(0);
        expect(ours.filter((d) => clear(d.score))).toHaveLength(expected.length);
        for (const t of expected) {
          const match = ours.find((d) => sameBox(d, t));
          expect(match).toBeDefined();
          expect(Math.abs((match?.score ?? 0) - t.score)).toBeLessThanOrEqual(TOLERANCE);
          expect(Math.abs((match?.box.width ?? 0) - t.w)).toBeLessThanOrEqual(TOLERANCE * Math.max(1, t.w));
          expect(Math.abs((match?.box.height ?? 0) - t.h)).toBeLessThanOrEqual(TOLERANCE * Math.max(1, t.h));
        }
      } finally {
        detector.dispose();
      }
    },
    120_000,
  );
});
