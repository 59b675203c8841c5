/** True when the host stores numbers little-endian, like `.weights` files (x86, ARM Jetsons). */
export const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Copies `count` little-endian float32 values starting at `byteOffset` of `view`. */
export function readFloat32LE(view: DataView, byteOffset: number, count: number): Float32Array {
  const floats = new Float32Array(count);
  if (HOST_IS_LITTLE_ENDIAN) {
    new Uint8Array(floats.buffer).set(new Uint8Array(view.buffer, view.byteOffset + byteOffset, count * 4));
    return floats;
  }
  for (let i = 0; i < count; i += 1) floats[i] = view.getFloat32(byteOffset + i * 4, true);
  return floats;
}

/** Writes `values` as little-endian float32 at `byteOffset` of `view`. */
export function writeFloat32LE(view: DataView, byteOffset: number, values: Float32Array): void {
  if (HOST_IS_LITTLE_ENDIAN) {
    new Uint8Array(view.buffer, view.byteOffset + byteOffset, values.length * 4).set(
      new Uint8Array(values.buffer, values.byteOffset, values.byteLength),
    );
    return;
  }
  for (let i = 0; i < values.length; i += 1) view.setFloat32(byteOffset + i * 4, values[i] ?? 0, true);
}
