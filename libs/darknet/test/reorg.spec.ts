/**
 * @jest-environment ./test/support/onnxruntime-environment.js
 */
import { darknetReorg, exportOnnx, parseCfg, randomWeights } from '../src';
import { runOnnx } from '../src/verify/onnx-runner';

/** Plain SpaceToDepth (ONNX DCR / TensorFlow): out[(dy*s + dx)*C + c][y][x] = in[c][y*s + dy][x*s + dx]. */
function spaceToDepth(
  input: Float32Array,
  [channels, height, width]: readonly [number, number, number],
  s: number,
) {
  const output = new Float32Array(input.length);
  const outHeight = height / s;
  const outWidth = width / s;
  for (let c = 0; c < channels; c += 1) {
    for (let y = 0; y < height; y += 1) {
      for (let x = 0; x < width; x += 1) {
        const outChannel = ((y % s) * s + (x % s)) * channels + c;
        output[(outChannel * outHeight + Math.floor(y / s)) * outWidth + Math.floor(x / s)] =
          input[(c * height + y) * width + x] ?? NaN;
      }
    }
  }
  return output;
}

const iota = (length: number): Float32Array => Float32Array.from({ length }, (_, i) => i);

describe("darknet's reorg order", () => {
  it('follows reorg_cpu(forward=0) on a hand-worked 4x2x2 example', () => {
    // With C=4, H=W=2, s=2 darknet reads the input as one 4x4 plane and takes its 2x2 phases in turn:
    // out[k][j][i] = x[4*(2j + k/2) + 2i + k%2].
    expect(Array.from(darknetReorg(iota(16), [4, 2, 2], 2))).toEqual([
      0, 2, 8, 10, 1, 3, 9, 11, 4, 6, 12, 14, 5, 7, 13, 15,
    ]);
  });

  it('differs from plain SpaceToDepth', () => {
    const shape = [8, 4, 6] as const;
    const input = iota(8 * 4 * 6);
    const darknet = Array.from(darknetReorg(input, shape, 2));
    const plain = Array.from(spaceToDepth(input, shape, 2));
    expect([...darknet].sort((a, b) => a - b)).toEqual([...plain].sort((a, b) => a - b)); // a permutation of the same values
    expect(darknet).not.toEqual(plain);
    expect(Array.from(spaceToDepth(iota(16), [4, 2, 2], 2))).toEqual([
      0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15,
    ]);
  });

  it('is what the ONNX Reshape/Transpose/Reshape chain computes', async () => {
    const network = parseCfg('[net]\nwidth=6\nheight=4\nchannels=8\n\n[reorg]\nstride=2\n', 'reorg.cfg');
    const input = iota(8 * 4 * 6);
    const outputs = await runOnnx(
      exportOnnx(network, randomWeights(network, 1)),
      network.inputShape,
      [input],
      ['raw'],
    );
    expect(Array.from(outputs.get('raw')?.[0] ?? [])).toEqual(Array.from(darknetReorg(input, [8, 4, 6], 2)));
  });
});
