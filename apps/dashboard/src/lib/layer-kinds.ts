import type { LayerAnalysis } from '../api/types';

/** How the per-layer charts colour a layer: the paper's point is the 3x3 → 1x1 replacement. */
export type LayerKind = '1x1 conv' | '3x3 conv' | 'other conv' | 'other';
export const LAYER_KINDS: readonly LayerKind[] = ['3x3 conv', '1x1 conv', 'other conv', 'other'];

export function layerKind(layer: LayerAnalysis): LayerKind {
  if (layer.type !== 'convolutional') return 'other';
  if (layer.kernelSize === 1) return '1x1 conv';
  if (layer.kernelSize === 3) return '3x3 conv';
  return 'other conv';
}

export interface LayerBars {
  /** Layer indexes. */
  x: number[];
  /** One bar series per kind present: the measure where the layer is of that kind, null elsewhere. */
  kinds: LayerKind[];
  values: Array<Array<number | null>>;
}

/** Bars of `measure` per layer, split into one series per layer kind so each kind has its colour and legend. */
export function layerBars(layers: readonly LayerAnalysis[], measure: 'params' | 'flops'): LayerBars {
  const kinds = LAYER_KINDS.filter((kind) => layers.some((layer) => layerKind(layer) === kind));
  return {
    x: layers.map((layer) => layer.index),
    kinds,
    values: kinds.map((kind) => layers.map((layer) => (layerKind(layer) === kind ? layer[measure] : null))),
  };
}

/** Totals per kind, for the summary under the charts. */
export function totalsByKind(
  layers: readonly LayerAnalysis[],
): Array<{ kind: LayerKind; layers: number; params: number; flops: number }> {
  return LAYER_KINDS.map((kind) => {
    const ofKind = layers.filter((layer) => layerKind(layer) === kind);
    return {
      kind,
      layers: ofKind.length,
      params: ofKind.reduce((sum, layer) => sum + layer.params, 0),
      flops: ofKind.reduce((sum, layer) => sum + layer.flops, 0),
    };
  }).filter((row) => row.layers > 0);
}
