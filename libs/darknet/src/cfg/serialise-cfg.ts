import type { Layer, NetOptions, PassthroughOption } from '../network/types';
import type { Network } from '../network/types';

type Entry = readonly [key: string, value: string | number];

function formatList(values: readonly number[]): string {
  return values.map((value) => String(value)).join(',');
}

function netEntries(net: NetOptions): Entry[] {
  return [
    ['batch', net.batch],
    ['subdivisions', net.subdivisions],
    ['width', net.width],
    ['height', net.height],
    ['channels', net.channels],
  ];
}

/** The cfg keys that reproduce one layer (defaults written out so the text does not depend on them). */
function layerEntries(layer: Layer): Entry[] {
  switch (layer.type) {
    case 'convolutional':
      return [
        ['batch_normalize', layer.batchNormalize ? 1 : 0],
        ['filters', layer.filters],
        ['size', layer.size],
        ['stride', layer.stride],
        layer.pad ? ['pad', 1] : ['padding', layer.padding],
        ...(layer.groups !== 1 ? [['groups', layer.groups] as const] : []),
        ['activation', layer.activation],
      ];
    case 'maxpool':
      return [
        ['size', layer.size],
        ['stride', layer.stride],
        ['padding', layer.padding],
      ];
    case 'route':
      return [['layers', formatList(layer.layers)]];
    case 'reorg':
      return [['stride', layer.stride]];
    case 'shortcut':
      return [
        ['from', layer.from],
        ['activation', layer.activation],
      ];
    case 'avgpool':
      return [];
    case 'connected':
      return [
        ['output', layer.output],
        ['batch_normalize', layer.batchNormalize ? 1 : 0],
        ['activation', layer.activation],
      ];
    case 'softmax':
      return [
        ['groups', layer.groups],
        ['temperature', layer.temperature],
      ];
    case 'region':
      return [
        ['anchors', formatList(layer.anchors)],
        ['classes', layer.classes],
        ['coords', layer.coords],
        ['num', layer.num],
        ['softmax', layer.softmax ? 1 : 0],
      ];
    case 'yolo':
      return [
        ['mask', formatList(layer.mask)],
        ['anchors', formatList(layer.anchors)],
        ['classes', layer.classes],
        ['num', layer.num],
      ];
    case 'upsample':
      return [['stride', layer.stride], ...(layer.scale !== 1 ? [['scale', layer.scale] as const] : [])];
  }
}

function section(name: string, entries: readonly Entry[], passthrough: readonly PassthroughOption[]): string {
  const lines = [`[${name}]`, ...entries.map(([key, value]) => `${key}=${value}`)];
  lines.push(...passthrough.map((option) => `${option.key}=${option.value}`));
  return lines.join('\n');
}

/**
 * Writes a network back as darknet cfg text. Routes and shortcuts use absolute layer indices; training-only
 * keys are written back after the structural ones. `parseCfg(serialiseCfg(n))` yields the same network.
 */
export function serialiseCfg(network: Network): string {
  const sections = [section('net', netEntries(network.net), network.net.passthrough)];
  for (const layer of network.layers)
    sections.push(section(layer.type, layerEntries(layer), layer.passthrough));
  return `${sections.join('\n\n')}\n`;
}
