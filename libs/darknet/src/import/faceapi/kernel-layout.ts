/**
 * TF.js kernel layouts to darknet's `[filter][channel][ky][kx]` (OIHW), and the one padding darknet lacks.
 */

/** A TF `conv2d` filter `[kh, kw, in, out]` (HWIO) as darknet OIHW. */
export function hwioToOihw(hwio: Float32Array, size: number, inputs: number, outputs: number): Float32Array {
  const oihw = new Float32Array(hwio.length);
  for (let ky = 0; ky < size; ky += 1) {
    for (let kx = 0; kx < size; kx += 1) {
      for (let input = 0; input < inputs; input += 1) {
        for (let output = 0; output < outputs; output += 1) {
          const source = ((ky * size + kx) * inputs + input) * outputs + output;
          oihw[((output * inputs + input) * size + ky) * size + kx] = hwio[source]!;
        }
      }
    }
  }
  return oihw;
}

/** A TF depthwise filter `[kh, kw, channels, 1]` as darknet OIHW with `groups = channels` (`[c][1][kh][kw]`). */
export function depthwiseToOihw(hwc1: Float32Array, size: number, channels: number): Float32Array {
  const oihw = new Float32Array(hwc1.length);
  for (let ky = 0; ky < size; ky += 1) {
    for (let kx = 0; kx < size; kx += 1) {
      for (let channel = 0; channel < channels; channel += 1) {
        oihw[(channel * size + ky) * size + kx] = hwc1[(ky * size + kx) * channels + channel]!;
      }
    }
  }
  return oihw;
}

/**
 * TF's `'same'` padding for a 3x3 kernel at stride 2 on an even input pads 0 before and 1 after, so output
 * `y` reads input rows `2y .. 2y+2`. Darknet pads both sides equally. The exact equivalent: a 4x4 kernel
 * whose first row and column are zero, with darknet `padding=1`: its window `2y-1 .. 2y+2` then covers the
 * same rows (row `2y-1` meets the zero row), and the extra bottom/right zero row is TF's padding.
 * Input OIHW `[filters][channels][3][3]`, output `[filters][channels][4][4]`.
 */
export function shiftedKernelForSameStride2(oihw3: Float32Array, planes: number): Float32Array {
  const shifted = new Float32Array(planes * 16);
  for (let plane = 0; plane < planes; plane += 1) {
    for (let ky = 0; ky < 3; ky += 1) {
      for (let kx = 0; kx < 3; kx += 1) {
        shifted[plane * 16 + (ky + 1) * 4 + (kx + 1)] = oihw3[plane * 9 + ky * 3 + kx]!;
      }
    }
  }
  return shifted;
}
