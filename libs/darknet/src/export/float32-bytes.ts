import { HOST_IS_LITTLE_ENDIAN } from '../util/little-endian';

/** The values as little-endian float32 bytes (ONNX `raw_data`, Caffe's packed blob data); no copy on x86/ARM. */
export function float32LittleEndianBytes(values: Float32Array): Uint8Array {
  if (HOST_IS_LITTLE_ENDIAN) return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  values.forEach((value, i) => view.setFloat32(i * 4, value, true));
  return bytes;
}
