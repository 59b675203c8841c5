import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { type HealthCheckSpec } from '@emofleet/protocol';
import { type DetectorAdapter } from '../detector';
import { decodeImageFile, listImages, type RawFrame } from '../sources';

export interface HealthCheckResult {
  readonly passed: boolean;
  readonly reason?: string;
  readonly measuredFps: number;
  /** Null when the bundle has no eval set. */
  readonly measuredAccuracy: number | null;
}

export interface HealthCheckOptions {
  readonly frameWidth: number;
  readonly frameHeight: number;
  readonly ffmpegPath?: string;
}

/**
 * Accuracy as the paper defines it: the share of eval images whose expression is detected correctly, i.e. whose
 * best detection has the label of the image's ground truth (first line of `<stem>.txt`, darknet format
 * `<class id> <cx> <cy> <w> <h>`, class ids indexing model.names). Null when there is no `eval/` directory.
 */
export async function evaluateAccuracy(
  detector: DetectorAdapter,
  bundleDirectory: string,
  options: HealthCheckOptions,
): Promise<number | null> {
  const evalDirectory = path.join(bundleDirectory, 'eval');
  const images = await listImages(evalDirectory).catch(() => []);
  if (images.length === 0) return null;
  const names = (await fs.readFile(path.join(bundleDirectory, 'model.names'), 'utf8'))
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
  let correct = 0;
  for (const [index, image] of images.entries()) {
    const labelFile = image.replace(/\.[^.]+$/, '.txt');
    const firstLine = (await fs.readFile(labelFile, 'utf8').catch(() => '')).split(/\r?\n/)[0]?.trim() ?? '';
    const classId = Number(firstLine.split(/\s+/)[0]);
    const expected = Number.isInteger(classId) ? names[classId] : undefined;
    if (expected === undefined)
      throw new Error(`${labelFile}:1: no darknet label line with a class id of model.names`);
    const data = await decodeImageFile(image, options.frameWidth, options.frameHeight, options.ffmpegPath);
    const detections = await detector.detect({
      index,
      timestamp: Date.now(),
      width: options.frameWidth,
      height: options.frameHeight,
      format: 'rgb24',
      data,
    });
    const best = [...detections].sort((a, b) => b.score - a.score)[0];
    if (best?.label === expected) correct += 1;
  }
  return correct / images.length;
}

/**
 * The rollout's health gate for a freshly loaded model: `warmupFrames` unmeasured frames, then FPS over
 * `measureFrames` (>= minFps), then accuracy on the bundle's eval set (>= minAccuracy). A gate with an accuracy
 * floor fails when the bundle has no eval set: a floor that cannot be checked is not passed.
 */
export async function runHealthCheck(
  detector: DetectorAdapter,
  bundleDirectory: string,
  spec: HealthCheckSpec,
  options: HealthCheckOptions,
): Promise<HealthCheckResult> {
  const data = Buffer.alloc(options.frameWidth * options.frameHeight * 3, 96);
  const frame = (index: number): RawFrame => ({
    index,
    timestamp: Date.now(),
    width: options.frameWidth,
    height: options.frameHeight,
    format: 'rgb24',
    data,
  });
  for (let i = 0; i < spec.warmupFrames; i += 1) await detector.detect(frame(i));
  const started = process.hrtime.bigint();
  for (let i = 0; i < spec.measureFrames; i += 1) await detector.detect(frame(spec.warmupFrames + i));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const measuredFps = Math.min(
    10_000,
    Math.round((spec.measureFrames / Math.max(seconds, 1e-6)) * 100) / 100,
  );
  const measuredAccuracy = await evaluateAccuracy(detector, bundleDirectory, options);
  if (measuredFps < spec.minFps) {
    return {
      passed: false,
      reason: `measured ${measuredFps} FPS over ${spec.measureFrames} frames, below the floor of ${spec.minFps}`,
      measuredFps,
      measuredAccuracy,
    };
  }
  if (spec.minAccuracy !== null) {
    if (measuredAccuracy === null) {
      return {
        passed: false,
        reason: `the rollout requires accuracy >= ${spec.minAccuracy} but the bundle has no eval set`,
        measuredFps,
        measuredAccuracy,
      };
    }
    if (measuredAccuracy < spec.minAccuracy) {
      return {
        passed: false,
        reason: `accuracy ${measuredAccuracy} on the eval set is below the floor of ${spec.minAccuracy}`,
        measuredFps,
        measuredAccuracy,
      };
    }
  }
  return { passed: true, measuredFps, measuredAccuracy };
}
