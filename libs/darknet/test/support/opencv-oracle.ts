import { execFileSync, spawnSync } from 'child_process';
import { join } from 'path';

/** Python with OpenCV's dnn module (Debian `python3-opencv`). */
export const OPENCV_PYTHON = '/usr/bin/python3';

export interface OpenCvCase {
  readonly cfg: string;
  readonly weights: string;
  readonly input: readonly [number, number, number];
}

export interface OpenCvLayer {
  readonly output?: number[];
  readonly conv_weights?: number;
  readonly conv_filters?: number;
  readonly fc_weights?: number;
  readonly fc_outputs?: number;
}

export type OpenCvResult = { readonly layers: Record<string, OpenCvLayer> } | { readonly error: string };

/**
 * Whether the OpenCV oracle can run here. Tests that need it are skipped otherwise, unless
 * EMOFLEET_REQUIRE_OPENCV=1 (CI), where a missing oracle is a failure.
 */
export function openCvAvailable(): boolean {
  const probe = spawnSync(OPENCV_PYTHON, ['-c', 'import cv2'], { stdio: 'ignore' });
  const available = probe.status === 0;
  if (!available && process.env['EMOFLEET_REQUIRE_OPENCV'] === '1') {
    throw new Error(`${OPENCV_PYTHON} cannot import cv2: install python3-opencv`);
  }
  return available;
}

/** Runs all cases through OpenCV's darknet importer in one Python process. */
export function runOpenCv(cases: readonly OpenCvCase[]): OpenCvResult[] {
  const output = execFileSync(OPENCV_PYTHON, [join(__dirname, 'opencv_darknet_shapes.py')], {
    input: JSON.stringify(cases),
    maxBuffer: 64 * 1024 * 1024,
    encoding: 'utf8',
  });
  return JSON.parse(output) as OpenCvResult[];
}
