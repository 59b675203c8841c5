import { headerByteLength, type Network, networkWeightsLayout } from '@emofleet/darknet';
import { ModelValidationError } from './model-validation-error';

const FLOAT_BYTES = 4;
/** major, minor, revision as int32; the smallest header darknet ever wrote is 16 bytes. */
const VERSION_BYTES = 12;

/**
 * Checks a `.weights` file's size against its network from the header alone, so a multi-gigabyte upload is never
 * read into memory: darknet's size must match exactly. A short file names the layer where the data runs out.
 */
export function checkWeightsSize(network: Network, header: Buffer, sizeBytes: number, file: string): void {
  if (header.length < VERSION_BYTES) {
    throw new ModelValidationError(file, `is ${sizeBytes} bytes: too short for a darknet weights header`);
  }
  const major = header.readInt32LE(0);
  const minor = header.readInt32LE(4);
  const headerBytes = headerByteLength(major, minor);
  const layouts = networkWeightsLayout(network);
  const expected = headerBytes + layouts.reduce((sum, layout) => sum + layout.total * FLOAT_BYTES, 0);
  if (sizeBytes === expected) return;
  const summary =
    `expected ${expected} bytes for ${network.source} (${headerBytes}-byte header of version ${major}.${minor} + ` +
    `${layouts.length} weighted layers), got ${sizeBytes}`;
  if (sizeBytes > expected) {
    throw new ModelValidationError(
      file,
      `${summary}: ${sizeBytes - expected} surplus bytes after the last layer`,
    );
  }
  let offset = headerBytes;
  for (const layout of layouts) {
    offset += layout.total * FLOAT_BYTES;
    if (sizeBytes < offset) {
      const { layer } = layout;
      throw new ModelValidationError(
        file,
        `truncated: ${summary}; the data runs out in layer ${layer.index} (${layer.type}, cfg line ${layer.line})`,
      );
    }
  }
  throw new ModelValidationError(file, `truncated: ${summary}; the data runs out in the header`);
}
