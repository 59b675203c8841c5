import type { Layer, Network, NetworkWeights, Shape } from '../network/types';
import { layerCost, networkCost } from './layer-cost';

/** One row of the per-layer report (JSON form of `emofleet model inspect --json`). */
export interface InspectedLayer {
  readonly index: number;
  readonly type: Layer['type'];
  readonly output: Shape;
  /** Kernel side of a convolution (1 for 1x1, 3 for 3x3); absent for other layer types. */
  readonly kernelSize?: number;
  readonly params: number;
  readonly flops: number;
}

export interface InspectReport {
  readonly layers: readonly InspectedLayer[];
  readonly totals: { readonly params: number; readonly flops: number };
}

export function inspectNetwork(network: Network): InspectReport {
  return {
    layers: network.layers.map((layer) => ({
      index: layer.index,
      type: layer.type,
      output: layer.outputShape,
      ...(layer.type === 'convolutional' ? { kernelSize: layer.size } : {}),
      ...layerCost(layer),
    })),
    totals: networkCost(network),
  };
}

function filtersColumn(layer: Layer): string {
  switch (layer.type) {
    case 'convolutional':
      return String(layer.filters);
    case 'connected':
      return String(layer.output);
    case 'route':
      return layer.layers.join(',');
    case 'shortcut':
      return String(layer.from);
    case 'maxpool':
    case 'reorg':
    case 'avgpool':
    case 'softmax':
    case 'region':
    case 'yolo':
    case 'upsample':
      return '';
  }
}

function sizeColumn(layer: Layer): string {
  switch (layer.type) {
    case 'convolutional': {
      const group = layer.groups === 1 ? '' : ` g${layer.groups}`;
      return `${layer.size}x${layer.size}/${layer.stride}${group}`;
    }
    case 'maxpool':
      return `${layer.size}x${layer.size}/${layer.stride}`;
    case 'reorg':
      return `/${layer.stride}`;
    case 'upsample':
      return `${layer.stride}x`;
    case 'connected':
    case 'route':
    case 'shortcut':
    case 'avgpool':
    case 'softmax':
    case 'region':
    case 'yolo':
      return '';
  }
}

/** darknet prints W x H x C. */
function formatShape(shape: Shape): string {
  return `${shape[2]} x ${shape[1]} x ${shape[0]}`;
}

function formatBillions(flops: number): string {
  return `${(flops / 1e9).toFixed(3)} BFLOPs`;
}

/** A darknet-style text table: index, type, filters, size/stride, input -> output, params, FLOPs, totals. */
export function formatInspectTable(network: Network, weights?: NetworkWeights): string {
  const rows = network.layers.map((layer) => {
    const cost = layerCost(layer);
    return [
      String(layer.index),
      layer.type,
      filtersColumn(layer),
      sizeColumn(layer),
      layer.type === 'route' ? '' : formatShape(layer.inputShape),
      '->',
      formatShape(layer.outputShape),
      cost.params ? cost.params.toLocaleString('en-US') : '',
      cost.flops ? formatBillions(cost.flops) : '',
    ];
  });
  const header = ['layer', 'type', 'filters', 'size', 'input', '', 'output', 'params', 'FLOPs'];
  const table = [header, ...rows];
  const widths = header.map((_, column) => Math.max(...table.map((row) => (row[column] ?? '').length)));
  const rightAligned = new Set([0, 7, 8]);
  const lines = table.map((row) =>
    row
      .map((cell, column) => {
        const width = widths[column] ?? 0;
        return rightAligned.has(column) ? cell.padStart(width) : cell.padEnd(width);
      })
      .join('  ')
      .trimEnd(),
  );
  const totals = networkCost(network);
  lines.push(
    '',
    `input ${formatShape(network.inputShape)}, ${network.layers.length} layers`,
    `total params ${totals.params.toLocaleString('en-US')} (conv/connected weights + one bias per filter, BN folded)`,
    `total FLOPs ${formatBillions(totals.flops)} (2 x multiply-adds)`,
  );
  if (weights) {
    const { major, minor, revision, seen } = weights.header;
    lines.push(
      `weights: version ${major}.${minor}.${revision}, seen ${seen.toString()} images; size matches the cfg`,
    );
  }
  return `${lines.join('\n')}\n`;
}
