import { readFileSync } from 'fs';
import type {
  BatchNormWeights,
  LayerWeights,
  Network,
  NetworkWeights,
  WeightsHeader,
} from '../network/types';
import { readFloat32LE } from '../util/little-endian';
import { WeightsError } from './weights-error';
import { headerByteLength, networkWeightsLayout, type LayerWeightsLayout } from './weights-layout';

const FLOAT_BYTES = 4;

function readHeader(view: DataView, file: string): WeightsHeader {
  if (view.byteLength < 16) {
    throw new WeightsError(
      file,
      `${view.byteLength} bytes is too short for a weights header (at least 16 bytes)`,
    );
  }
  const major = view.getInt32(0, true);
  const minor = view.getInt32(4, true);
  const revision = view.getInt32(8, true);
  if (major > 1000 || minor > 1000 || major < 0 || minor < 0) {
    throw new WeightsError(
      file,
      `header version ${major}.${minor} is not supported (darknet's transposed connected-layer format, or not a weights file)`,
    );
  }
  const headerBytes = headerByteLength(major, minor);
  if (view.byteLength < headerBytes) {
    throw new WeightsError(
      file,
      `${view.byteLength} bytes is too short for a version ${major}.${minor} header (${headerBytes} bytes)`,
    );
  }
  const seen = headerBytes === 20 ? view.getBigUint64(12, true) : BigInt(view.getInt32(12, true));
  return { major, minor, revision, seen };
}

/** Sequential little-endian float reader that reports where a short file runs out. */
class FloatCursor {
  constructor(
    private readonly view: DataView,
    private offset: number,
    private readonly outOfData: (what: string, start: number, end: number) => WeightsError,
  ) {}

  take(what: string, count: number): Float32Array {
    const end = this.offset + count * FLOAT_BYTES;
    if (end > this.view.byteLength) throw this.outOfData(what, this.offset, end);
    const floats = readFloat32LE(this.view, this.offset, count);
    this.offset = end;
    return floats;
  }
}

function readBatchNorm(cursor: FloatCursor, layout: LayerWeightsLayout): BatchNormWeights | null {
  if (!layout.batchNormalize) return null;
  return {
    scales: cursor.take('batch-norm scales', layout.perFilter),
    rollingMean: cursor.take('rolling mean', layout.perFilter),
    rollingVariance: cursor.take('rolling variance', layout.perFilter),
  };
}

/** darknet's order: conv = biases, [BN], weights (load_convolutional_weights); connected = biases, weights, [BN]. */
function readLayer(cursor: FloatCursor, layout: LayerWeightsLayout): LayerWeights {
  const biases = cursor.take('biases', layout.perFilter);
  if (layout.layer.type === 'convolutional') {
    const batchNorm = readBatchNorm(cursor, layout);
    return {
      layerIndex: layout.layer.index,
      biases,
      batchNorm,
      weights: cursor.take('weights', layout.weights),
    };
  }
  const weights = cursor.take('weights', layout.weights);
  return { layerIndex: layout.layer.index, biases, batchNorm: readBatchNorm(cursor, layout), weights };
}

/**
 * Parses `.weights` bytes for `network`. The size must match exactly: a short file names the layer and
 * array where the data runs out, a long one the number of surplus bytes.
 */
export function readWeights(network: Network, bytes: Uint8Array, file = '<weights>'): NetworkWeights {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const header = readHeader(view, file);
  const layouts = networkWeightsLayout(network);
  const headerBytes = headerByteLength(header.major, header.minor);
  const expectedBytes = headerBytes + layouts.reduce((sum, layout) => sum + layout.total * FLOAT_BYTES, 0);
  const summary = `expected ${expectedBytes} bytes for ${network.source} (${headerBytes}-byte header + ${layouts.length} weighted layers), got ${bytes.byteLength}`;
  if (bytes.byteLength > expectedBytes) {
    throw new WeightsError(
      file,
      `${summary}: ${bytes.byteLength - expectedBytes} surplus bytes after the last layer`,
    );
  }

  const layers: Array<LayerWeights | null> = network.layers.map(() => null);
  let current: LayerWeightsLayout | undefined;
  const cursor = new FloatCursor(view, headerBytes, (what, start, end) => {
    const layer = current?.layer;
    const where = layer ? `layer ${layer.index} (${layer.type}, cfg line ${layer.line})` : 'the header';
    return new WeightsError(
      file,
      `truncated: ${summary}; the data runs out in ${where} while reading its ${what} (bytes ${start}..${end})`,
    );
  });
  for (const layout of layouts) {
    current = layout;
    layers[layout.layer.index] = readLayer(cursor, layout);
  }
  return { header, layers };
}

/** Reads a `.weights` file for `network`. */
export function loadWeights(network: Network, path: string): NetworkWeights {
  return readWeights(network, readFileSync(path), path);
}
