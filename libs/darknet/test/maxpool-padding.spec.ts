import { parseCfg, type MaxpoolLayer } from '../src';
import { planCaffeMaxpool } from '../src/export/caffe/caffe-maxpool';
import { darknetMaxpoolPadding } from '../src/export/maxpool-padding';
import { maxpoolForward } from '../src/reference/pooling';

function maxpool(options: string, side: number, channels = 1) {
  const network = parseCfg(
    `[net]\nwidth=${side}\nheight=${side}\nchannels=${channels}\n\n[maxpool]\n${options}\n`,
    'pool.cfg',
  );
  return { network, layer: network.layers[0] as MaxpoolLayer };
}

describe("darknet's maxpool padding", () => {
  it("YOLO v2-tiny's size=2 stride=1 pool keeps 13x13 and pads only after (the last window sees one pixel)", () => {
    const { network, layer } = maxpool('size=2\nstride=1', 13);
    expect(layer.outputShape).toEqual([1, 13, 13]);
    expect(darknetMaxpoolPadding(network, layer)).toEqual({ begin: [0, 0], end: [1, 1] });
    // Caffe pads both sides, so the pool gets pad 1 and a crop drops the leading row and column.
    expect(planCaffeMaxpool(network, layer)).toEqual({ pad: [1, 1], cropOffset: [1, 1] });
  });

  it('reference: the last row and column take the max of the pixels that exist', () => {
    const { layer } = maxpool('size=2\nstride=1', 3);
    const input = Float32Array.from([1, 5, 2, 7, 3, -4, -1, 0, -9]);
    // Windows start at 0 (no leading padding); those at the right and bottom edge are clipped.
    expect(Array.from(maxpoolForward(layer, input))).toEqual([7, 5, 2, 7, 3, -4, 0, 0, -9]);
  });

  it('size=2 stride=2 needs no padding on even inputs and one trailing pixel on odd ones', () => {
    const even = maxpool('size=2\nstride=2', 26);
    expect(darknetMaxpoolPadding(even.network, even.layer)).toEqual({ begin: [0, 0], end: [0, 0] });
    expect(planCaffeMaxpool(even.network, even.layer)).toEqual({ pad: [0, 0], cropOffset: null });
    const odd = maxpool('size=2\nstride=2', 13);
    expect(odd.layer.outputShape).toEqual([1, 7, 7]);
    expect(darknetMaxpoolPadding(odd.network, odd.layer)).toEqual({ begin: [0, 0], end: [1, 1] });
    // Caffe's ceil rounding already yields the seventh, clipped window.
    expect(planCaffeMaxpool(odd.network, odd.layer)).toEqual({ pad: [0, 0], cropOffset: null });
  });

  it('size=3 stride=1 pads one pixel on each side', () => {
    const { network, layer } = maxpool('size=3\nstride=1', 9);
    expect(darknetMaxpoolPadding(network, layer)).toEqual({ begin: [1, 1], end: [1, 1] });
    expect(planCaffeMaxpool(network, layer)).toEqual({ pad: [1, 1], cropOffset: null });
  });
});
