// Runs on the arm64 Node 16 (under qemu-aarch64-static in test:arm64, or on a Jetson): loads the arm64 addon
// and compares its outputs with the x86-64 references that write-references.mjs wrote. Plain Node 16 (no
// jest, no TypeScript). Usage: node check-references.cjs <addon.node> <reference directory>
'use strict';
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');

const TOLERANCE = 1e-4;
const [addonPath, referenceDir] = process.argv.slice(2);
if (!addonPath || !referenceDir) {
  console.error('usage: node check-references.cjs <addon.node> <reference directory>');
  process.exit(2);
}

function readFloats(file) {
  const bytes = fs.readFileSync(path.join(referenceDir, file));
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

/** max|actual - expected| / max(1, max|expected|), the detector's parity-test measure. */
function relativeError(actual, expected) {
  assert.strictEqual(
    actual.length,
    expected.length,
    `length ${actual.length} != expected ${expected.length}`,
  );
  let worst = 0;
  let scale = 1;
  for (let i = 0; i < expected.length; i += 1) {
    worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return worst / scale;
}

function assertClose(actual, expected, what) {
  const error = relativeError(actual, expected);
  assert.ok(error <= TOLERANCE, `${what}: relative error ${error.toExponential(3)} > ${TOLERANCE}`);
  return `relative error ${error.toExponential(2)}`;
}

function assertSameDetections(actual, expected) {
  assert.strictEqual(
    actual.length,
    expected.length,
    `${actual.length} detections, x86 had ${expected.length}`,
  );
  actual.forEach((detection, i) => {
    const reference = expected[i];
    assert.strictEqual(detection.classId, reference.classId, `detection ${i}: class`);
    for (const key of ['score', 'x', 'y', 'width', 'height']) {
      const scale = Math.max(1, Math.abs(reference[key]));
      const error = Math.abs(detection[key] - reference[key]) / scale;
      assert.ok(error <= TOLERANCE, `detection ${i}: ${key} ${detection[key]} vs ${reference[key]}`);
    }
  });
  return `${actual.length} detections`;
}

async function main() {
  const addon = { exports: {} };
  process.dlopen(addon, path.resolve(addonPath));
  const native = addon.exports;
  const manifest = JSON.parse(fs.readFileSync(path.join(referenceDir, 'manifest.json'), 'utf8'));
  let passed = 0;
  let failed = 0;
  async function check(name, run) {
    const started = Date.now();
    try {
      const detail = await run();
      passed += 1;
      console.log(`ok   ${name} (${detail}, ${((Date.now() - started) / 1000).toFixed(1)} s)`);
    } catch (error) {
      failed += 1;
      console.log(`FAIL ${name}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  for (const network of manifest) {
    const detector = await native.createDetector(
      fs.readFileSync(path.join(referenceDir, network.cfg), 'utf8'),
      fs.readFileSync(path.join(referenceDir, network.weights)),
      { backend: 'cpu', threads: 2, fuse: true, pipelined: false },
    );
    console.log(`# ${network.name}: OpenBLAS core ${detector.info().blasCore}`);
    try {
      await check(`${network.name} raw output`, async () =>
        assertClose(await detector.forwardRaw(readFloats(network.input), -1), readFloats(network.raw), 'raw'),
      );
      if (network.frameFile) {
        const frame = fs.readFileSync(path.join(referenceDir, network.frameFile));
        const { width, height, format } = network.frameDescription;
        await check(`${network.name} letterboxed ${width}x${height} ${format} frame`, async () =>
          assertClose(
            await detector.preprocess(frame, width, height, format),
            readFloats(network.letterbox),
            'letterbox',
          ),
        );
        await check(`${network.name} detections`, async () => {
          const { scoreThreshold, iouThreshold } = network.thresholds;
          const detections = await detector.detect(
            frame,
            width,
            height,
            format,
            scoreThreshold,
            iouThreshold,
          );
          return assertSameDetections(detections, network.detections);
        });
      }
    } finally {
      detector.dispose();
    }
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed === 0 && passed > 0 ? 0 : 1;
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
