import type { Network } from '../../src';

/** A network without source positions, for comparing networks parsed from different texts. */
export function withoutPositions(network: Network): unknown {
  return {
    net: { ...network.net, line: 0 },
    layers: network.layers.map((layer) => ({ ...layer, line: 0 })),
    inputShape: network.inputShape,
    outputShape: network.outputShape,
  };
}
