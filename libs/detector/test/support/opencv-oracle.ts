import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ORACLE = join(__dirname, '..', 'oracle', 'opencv_oracle.py');
/** Debian's python3 (python3-opencv installs cv2 there); override with EMOFLEET_PYTHON. */
export const PYTHON = process.env['EMOFLEET_PYTHON'] ?? '/usr/bin/python3';

export interface OracleOutput {
  readonly name: string;
  readonly shape: number[];
  readonly data: Float32Array;
}

/** Runs cv2.dnn on `input` (NCHW) and returns the raw output before [region] and, if any, the region output. */
export function opencvForward(
  cfg: string,
  weights: Buffer,
  shape: readonly [number, number, number],
  input: Float32Array,
  regionThreshold?: number,
): OracleOutput[] {
  const dir = mkdtempSync(join(tmpdir(), 'emofleet-oracle-'));
  try {
    writeFileSync(join(dir, 'net.cfg'), cfg);
    writeFileSync(join(dir, 'net.weights'), weights);
    writeFileSync(join(dir, 'input.f32'), Buffer.from(input.buffer, input.byteOffset, input.byteLength));
    const args = [
      ORACLE,
      'forward',
      '--cfg',
      join(dir, 'net.cfg'),
      '--weights',
      join(dir, 'net.weights'),
      '--shape',
      shape.join(','),
      '--input',
      join(dir, 'input.f32'),
      '--out-dir',
      dir,
      '--threads',
      '1',
    ];
    if (regionThreshold !== undefined) args.push('--region-thresh', String(regionThreshold));
    const manifest = JSON.parse(execFileSync(PYTHON, args, { encoding: 'utf8' })) as {
      outputs: Array<{ name: string; file: string; shape: number[] }>;
    };
    return manifest.outputs.map((output) => {
      const bytes = readFileSync(output.file);
      return {
        name: output.name,
        shape: output.shape,
        data: new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)),
      };
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
