import { readFileSync } from 'fs';
import { join } from 'path';
import { FaceapiImportError } from './faceapi-import-error';

/** One dequantised float32 tensor of a TF.js weights manifest. */
export interface TfjsTensor {
  readonly name: string;
  readonly shape: readonly number[];
  readonly values: Float32Array;
}

/** The tensors of one TF.js model, by name. */
export type TfjsWeightMap = ReadonlyMap<string, TfjsTensor>;

type QuantizationDtype = 'uint8' | 'uint16' | 'float16';

interface WeightEntry {
  readonly name: string;
  readonly shape: readonly number[];
  readonly quantization: { dtype: QuantizationDtype; scale: number; min: number } | null;
}

/** Bytes per stored value: float32 unquantised, else the quantised type's size. */
function bytesPerValue(entry: WeightEntry): number {
  if (!entry.quantization) return 4;
  return entry.quantization.dtype === 'uint8' ? 1 : 2;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseEntry(raw: unknown, where: string, fail: (why: string) => never): WeightEntry {
  if (!isRecord(raw)) return fail(`${where} is not an object`);
  const { name, shape, dtype, quantization } = raw;
  if (typeof name !== 'string') return fail(`${where} has no string 'name'`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && (d as number) >= 0)) {
    return fail(`${where} ('${name}') has no valid 'shape'`);
  }
  if (dtype !== 'float32') {
    return fail(`${where} ('${name}') has dtype ${String(dtype)}; only float32 weights are supported`);
  }
  if (quantization === undefined) return { name, shape: shape as number[], quantization: null };
  if (!isRecord(quantization)) return fail(`${where} ('${name}') has a malformed 'quantization'`);
  const kind = quantization['dtype'];
  if (kind === 'float16') {
    return { name, shape: shape as number[], quantization: { dtype: kind, scale: 1, min: 0 } };
  }
  if (kind !== 'uint8' && kind !== 'uint16') {
    return fail(
      `${where} ('${name}') uses quantization dtype ${String(kind)} (supported: uint8, uint16, float16)`,
    );
  }
  const scale = quantization['scale'];
  const min = quantization['min'];
  if (typeof scale !== 'number' || typeof min !== 'number') {
    return fail(`${where} ('${name}') is ${kind}-quantised but lacks numeric 'scale' and 'min'`);
  }
  return { name, shape: shape as number[], quantization: { dtype: kind, scale, min } };
}

/** IEEE 754 half precision to number (TF.js `getFloat16Decoder` gives the same values). */
function float16ToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/**
 * Decodes one tensor starting at `offset` of the concatenated group buffer, as TF.js `decodeWeights` does:
 * uint8/uint16 values become `q * scale + min` (computed in double, stored as float32), float16 is widened,
 * unquantised values are little-endian float32.
 */
function decodeEntry(entry: WeightEntry, view: DataView, offset: number, count: number): Float32Array {
  const values = new Float32Array(count);
  const quantization = entry.quantization;
  for (let i = 0; i < count; i += 1) {
    if (!quantization) values[i] = view.getFloat32(offset + 4 * i, true);
    else if (quantization.dtype === 'uint8') {
      values[i] = view.getUint8(offset + i) * quantization.scale + quantization.min;
    } else if (quantization.dtype === 'uint16') {
      values[i] = view.getUint16(offset + 2 * i, true) * quantization.scale + quantization.min;
    } else values[i] = float16ToNumber(view.getUint16(offset + 2 * i, true));
  }
  return values;
}

/**
 * Reads `<modelDir>/<modelName>-weights_manifest.json` and the shard files it lists, and returns every
 * tensor dequantised to float32. Errors name the manifest entry, or the shard and byte offsets that are missing.
 */
export function readTfjsWeights(modelDir: string, modelName: string): TfjsWeightMap {
  const manifestPath = join(modelDir, `${modelName}-weights_manifest.json`);
  const fail = (why: string): never => {
    throw new FaceapiImportError(manifestPath, why);
  };
  let manifest: unknown;
  try {
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  } catch (error) {
    return fail(`cannot read the weights manifest: ${(error as Error).message}`);
  }
  if (!Array.isArray(manifest)) return fail('the manifest is not a JSON array of weight groups');
  const tensors = new Map<string, TfjsTensor>();
  manifest.forEach((group: unknown, groupIndex) => {
    const where = `group ${groupIndex}`;
    if (!isRecord(group) || !Array.isArray(group['paths']) || !Array.isArray(group['weights'])) {
      return fail(`${where} needs 'paths' and 'weights' arrays`);
    }
    const paths = group['paths'] as unknown[];
    const shards = paths.map((path) => {
      if (typeof path !== 'string') return fail(`${where} lists a non-string path`);
      try {
        return readFileSync(join(modelDir, path));
      } catch (error) {
        return fail(`${where}: cannot read shard ${path}: ${(error as Error).message}`);
      }
    });
    const buffer = Buffer.concat(shards);
    const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    let offset = 0;
    (group['weights'] as unknown[]).forEach((raw, weightIndex) => {
      const entry = parseEntry(raw, `${where} weight ${weightIndex}`, fail);
      const count = entry.shape.reduce((product, dimension) => product * dimension, 1);
      const byteLength = count * bytesPerValue(entry);
      if (offset + byteLength > buffer.byteLength) {
        fail(
          `'${entry.name}' needs bytes ${offset}..${offset + byteLength} of ${paths.join('+')}, which has ${buffer.byteLength}`,
        );
      }
      if (tensors.has(entry.name)) fail(`'${entry.name}' is listed twice`);
      tensors.set(entry.name, {
        name: entry.name,
        shape: entry.shape,
        values: decodeEntry(entry, view, offset, count),
      });
      offset += byteLength;
    });
    if (offset !== buffer.byteLength) {
      fail(`${where}: the weights use ${offset} bytes but ${paths.join('+')} has ${buffer.byteLength}`);
    }
  });
  return tensors;
}

/** The tensor `name` of `weights`, checked to have `shape`. */
export function tensorOf(
  weights: TfjsWeightMap,
  source: string,
  name: string,
  shape: readonly number[],
): Float32Array {
  const tensor = weights.get(name);
  if (!tensor) throw new FaceapiImportError(source, `the weights have no tensor '${name}'`);
  if (tensor.shape.length !== shape.length || tensor.shape.some((d, axis) => d !== shape[axis])) {
    throw new FaceapiImportError(
      source,
      `tensor '${name}' has shape [${tensor.shape.join(', ')}], expected [${shape.join(', ')}]`,
    );
  }
  return tensor.values;
}
