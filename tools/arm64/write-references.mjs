// Writes the x86-64 reference outputs that check-references.cjs compares the emulated arm64 addon against:
// seeded random weights for each network, an input tensor, the raw output of [region]'s input, and (tiny
// network) a letterboxed frame and its detections. Uses the built x64 addon through @emofleet/detector.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseCfg, randomWeights, serialiseWeights } from '@emofleet/darknet';
import { createDetector } from '@emofleet/detector';

const root = resolve(import.meta.dirname, '..', '..');

export const REFERENCE_NETWORKS = [
  {
    name: 'yolov2-tiny-expression',
    cfg: 'libs/darknet/models/yolov2-tiny-expression.cfg',
    seed: 1,
    frame: true,
  },
  {
    name: 'depthwise-groups',
    cfg: 'libs/detector/test/fixtures/depthwise-groups.cfg',
    seed: 4,
    frame: false,
  },
];
const FRAME = { width: 320, height: 240, format: 'bgr24' };
// Random weights give weak, crowded scores (at most ~0.19 on this frame); 0.176 keeps 18 detections whose
// scores are >= 1e-4 apart and away from the threshold, so the order and count are not decided by rounding.
const DETECT_THRESHOLDS = { scoreThreshold: 0.176, iouThreshold: 0.45 };

/** Deterministic bytes/floats (xorshift32), so a rerun writes identical files. */
function xorshift(count, seed) {
  const values = new Float32Array(count);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < count; i += 1) {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    values[i] = state / 4294967296;
  }
  return values;
}

function writeFloats(path, values) {
  writeFileSync(path, Buffer.from(values.buffer, values.byteOffset, values.byteLength));
}

async function writeNetworkReferences(directory, network) {
  const cfgPath = join(root, network.cfg);
  const cfg = readFileSync(cfgPath, 'utf8');
  const parsed = parseCfg(cfg, cfgPath);
  const weights = Buffer.from(serialiseWeights(parsed, randomWeights(parsed, network.seed)));
  const detector = await createDetector({ cfg, weights, threads: 2 });
  try {
    const { channels, height, width } = detector.info.input;
    const input = xorshift(channels * height * width, network.seed + 100);
    const files = { cfg: `${network.name}.cfg`, weights: `${network.name}.weights` };
    writeFileSync(join(directory, files.cfg), cfg);
    writeFileSync(join(directory, files.weights), weights);
    writeFloats(join(directory, `${network.name}.input.f32`), input);
    writeFloats(join(directory, `${network.name}.raw.f32`), await detector.forwardRaw(input));
    const entry = {
      ...network,
      ...files,
      input: `${network.name}.input.f32`,
      raw: `${network.name}.raw.f32`,
    };
    if (network.frame) {
      const frame = Buffer.from(
        xorshift(FRAME.width * FRAME.height * 3, network.seed + 200).map((v) => v * 256),
      );
      writeFileSync(join(directory, `${network.name}.frame.bgr`), frame);
      writeFloats(join(directory, `${network.name}.letterbox.f32`), await detector.preprocess(frame, FRAME));
      const detections = await detector.detect(frame, FRAME, DETECT_THRESHOLDS);
      Object.assign(entry, {
        frameFile: `${network.name}.frame.bgr`,
        frameDescription: FRAME,
        letterbox: `${network.name}.letterbox.f32`,
        thresholds: DETECT_THRESHOLDS,
        detections: detections.map(({ classId, score, box }) => ({ classId, score, ...box })),
      });
    }
    return entry;
  } finally {
    detector.dispose();
  }
}

export async function writeReferences(directory) {
  mkdirSync(directory, { recursive: true });
  const manifest = [];
  for (const network of REFERENCE_NETWORKS) manifest.push(await writeNetworkReferences(directory, network));
  writeFileSync(join(directory, 'manifest.json'), JSON.stringify(manifest, null, 2));
  return manifest;
}
