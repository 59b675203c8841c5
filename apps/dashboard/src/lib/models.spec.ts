import { layerFixture, versionFixture } from './fixtures';
import { layerBars, layerKind, totalsByKind } from './layer-kinds';
import { lineageRows } from './lineage';

describe('per-layer analysis', () => {
  const layers = [
    layerFixture(0, 'convolutional', 3, 432),
    layerFixture(1, 'maxpool', undefined, 0),
    layerFixture(2, 'convolutional', 1, 64),
    layerFixture(3, 'convolutional', undefined, 10),
  ];

  it('tells 1x1 from 3x3 convolutions, and convolutions analysed before kernel sizes were kept', () => {
    expect(layers.map(layerKind)).toEqual(['3x3 conv', 'other', '1x1 conv', 'other conv']);
  });

  it('makes one bar series per kind, null where a layer is of another kind', () => {
    const bars = layerBars(layers, 'params');
    expect(bars.x).toEqual([0, 1, 2, 3]);
    expect(bars.kinds).toEqual(['3x3 conv', '1x1 conv', 'other conv', 'other']);
    expect(bars.values[0]).toEqual([432, null, null, null]);
    expect(bars.values[1]).toEqual([null, null, 64, null]);
    expect(layerBars(layers, 'flops').values[0]).toEqual([4320, null, null, null]);
  });

  it('totals params and FLOPs per kind', () => {
    expect(totalsByKind(layers)).toContainEqual({ kind: '1x1 conv', layers: 1, params: 64, flops: 640 });
  });
});

describe('lineage', () => {
  it('lists each version under its parent, siblings newest first, orphans as roots', () => {
    const rows = lineageRows([
      versionFixture(1, null),
      versionFixture(2, 1),
      versionFixture(3, 1),
      versionFixture(4, 3),
      versionFixture(5, 9),
    ]);
    expect(rows.map((row) => [row.version.version, row.depth])).toEqual([
      [5, 0],
      [1, 0],
      [3, 1],
      [4, 2],
      [2, 1],
    ]);
  });
});
