import type { LayerWeights, Network, NetworkWeights } from '../network/types';
import { writeFloat32LE } from '../util/little-endian';
import { writeFileAtomic } from '../util/write-file-atomic';
import { WeightsError } from './weights-error';
import { headerByteLength, networkWeightsLayout, type LayerWeightsLayout } from './weights-layout';

/** The arrays of one layer in darknet's file order, checked against the layout. */
function arraysInFileOrder(
  layout: LayerWeightsLayout,
  weights: LayerWeights | null | undefined,
): Float32Array[] {
  const where = `layer ${layout.layer.index} (${layout.layer.type})`;
  if (!weights) throw new WeightsError('<weights>', `${where} has no weights`);
  const check = (name: string, array: Float32Array, expected: number): Float32Array => {
    if (array.length !== expected) {
      throw new WeightsError(
        '<weights>',
        `${where} ${name} has ${array.length} floats, expected ${expected}`,
      );
    }
    return array;
  };
  if ((weights.batchNorm !== null) !== layout.batchNormalize) {
    const state = layout.batchNormalize
      ? 'is batch-normalised but has no'
      : 'is not batch-normalised but has';
    throw new WeightsError('<weights>', `${where} ${state} batch-norm statistics`);
  }
  const biases = check('biases', weights.biases, layout.perFilter);
  const kernel = check('weights', weights.weights, layout.weights);
  const batchNorm = weights.batchNorm
    ? [
        check('scales', weights.batchNorm.scales, layout.perFilter),
        check('rollingMean', weights.batchNorm.rollingMean, layout.perFilter),
        check('rollingVariance', weights.batchNorm.rollingVariance, layout.perFilter),
      ]
    : [];
  // save_convolutional_weights: biases, BN, weights; save_connected_weights: biases, weights, BN.
  return layout.layer.type === 'convolutional'
    ? [biases, ...batchNorm, kernel]
    : [biases, kernel, ...batchNorm];
}

/** Serialises weights for `network` in darknet's `.weights` format (header version decides `seen`'s width). */
export function serialiseWeights(network: Network, weights: NetworkWeights): Uint8Array {
  const { major, minor, revision, seen } = weights.header;
  if (major > 1000 || minor > 1000 || major < 0 || minor < 0) {
    throw new WeightsError('<weights>', `cannot write header version ${major}.${minor}`);
  }
  const headerBytes = headerByteLength(major, minor);
  const arrays = networkWeightsLayout(network).flatMap((layout) =>
    arraysInFileOrder(layout, weights.layers[layout.layer.index]),
  );
  const totalBytes = headerBytes + arrays.reduce((sum, array) => sum + array.length * 4, 0);
  const bytes = new Uint8Array(totalBytes);
  const view = new DataView(bytes.buffer);
  view.setInt32(0, major, true);
  view.setInt32(4, minor, true);
  view.setInt32(8, revision, true);
  if (headerBytes === 20) view.setBigUint64(12, seen, true);
  else view.setInt32(12, Number(BigInt.asIntN(32, seen)), true);
  let offset = headerBytes;
  for (const array of arrays) {
    writeFloat32LE(view, offset, array);
    offset += array.length * 4;
  }
  return bytes;
}

/** Writes a `.weights` file atomically (temp file + rename). */
export function saveWeights(network: Network, weights: NetworkWeights, path: string): void {
  writeFileAtomic(path, serialiseWeights(network, weights));
}
