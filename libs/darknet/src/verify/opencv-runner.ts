import { spawnSync } from 'child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import type { Shape } from '../network/types';
import { float32LittleEndianBytes } from '../export/float32-bytes';
import { readFloat32LE } from '../util/little-endian';

/** Python with OpenCV's dnn module (Debian `python3-opencv`); `EMOFLEET_OPENCV_PYTHON` overrides it. */
export function openCvPython(): string {
  return process.env['EMOFLEET_OPENCV_PYTHON'] ?? '/usr/bin/python3';
}

/** The oracle script; `libs/darknet/tools/` is two levels above both `src/verify` and `dist/verify`. */
export const OPENCV_FORWARD_SCRIPT = join(__dirname, '..', '..', 'tools', 'opencv_forward.py');

/** One output to fetch: by OpenCV layer name (Caffe blobs) or by darknet layer index (darknet importer). */
export type OpenCvOutput =
  | { readonly name: string; readonly layer: string }
  | { readonly name: string; readonly darknetLayer: number };

/** A model and a batch of inputs to run through OpenCV's importer. */
export interface OpenCvCase {
  readonly format: 'darknet' | 'caffe';
  /** `[cfg, weights]` or `[prototxt, caffemodel]`. */
  readonly files: readonly [string, string];
  readonly inputShape: Shape;
  /** One CHW tensor per batch item. */
  readonly inputs: readonly Float32Array[];
  readonly outputs: readonly OpenCvOutput[];
}

/** Per requested output name, one tensor per batch item. */
export type OpenCvResult = ReadonlyMap<string, readonly Float32Array[]>;

type ScriptResult = { readonly outputs: Record<string, number[]> } | { readonly error: string };

/** Whether the OpenCV oracle can run here (`python3 -c 'import cv2'`). */
export function openCvAvailable(): boolean {
  return spawnSync(openCvPython(), ['-c', 'import cv2'], { stdio: 'ignore' }).status === 0;
}

/**
 * Runs every case through OpenCV in one Python process (inputs batched per case) and returns the outputs.
 * Throws when OpenCV rejects a model, naming the file and OpenCV's reason.
 */
export function runOpenCvForward(cases: readonly OpenCvCase[]): OpenCvResult[] {
  const directory = mkdtempSync(join(tmpdir(), 'emofleet-opencv-'));
  try {
    const jobs = cases.map((testCase, index) => {
      const input = join(directory, `input-${index}.f32`);
      const volume = testCase.inputShape[0] * testCase.inputShape[1] * testCase.inputShape[2];
      const batch = new Float32Array(volume * testCase.inputs.length);
      testCase.inputs.forEach((tensor, item) => {
        if (tensor.length !== volume)
          throw new Error(`input ${item} has ${tensor.length} values, expected ${volume}`);
        batch.set(tensor, item * volume);
      });
      writeFileSync(input, float32LittleEndianBytes(batch));
      return {
        format: testCase.format,
        files: testCase.files,
        input,
        shape: [testCase.inputs.length, ...testCase.inputShape],
        outputs: testCase.outputs.map((output) =>
          'layer' in output
            ? { name: output.name, layer: output.layer }
            : { name: output.name, darknet_layer: output.darknetLayer },
        ),
        output_dir: directory,
        file_prefix: `${index}-`,
      };
    });
    const results: OpenCvResult[] = [];
    const run = spawnSync(openCvPython(), [OPENCV_FORWARD_SCRIPT], {
      input: JSON.stringify(jobs),
      maxBuffer: 16 * 1024 * 1024,
      encoding: 'utf8',
    });
    if (run.status !== 0) {
      throw new Error(
        `${openCvPython()} ${OPENCV_FORWARD_SCRIPT} failed (${run.status ?? run.signal}): ${run.stderr}`,
      );
    }
    const parsed = JSON.parse(run.stdout) as ScriptResult[];
    parsed.forEach((result, index) => {
      const testCase = cases[index];
      if (!testCase) throw new Error('OpenCV returned more results than cases');
      if ('error' in result) throw new Error(`OpenCV could not run ${testCase.files[0]}: ${result.error}`);
      const outputs = new Map<string, Float32Array[]>();
      for (const [name, shape] of Object.entries(result.outputs)) {
        const bytes = readFileSync(join(directory, `${index}-${name}.f32`));
        const all = readFloat32LE(
          new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength),
          0,
          bytes.byteLength / 4,
        );
        const perItem = all.length / (shape[0] ?? 1);
        outputs.set(
          name,
          testCase.inputs.map((_, item) => all.slice(item * perItem, (item + 1) * perItem)),
        );
      }
      results.push(outputs);
    });
    return results;
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}
