import type { Layer, Network } from '../network/types';

/**
 * A network that cannot be run or exported as asked, reported as `cfg:line: layer N ([type]) ...` so the user
 * can find the section in the cfg.
 */
export class ExportError extends Error {
  constructor(
    readonly source: string,
    readonly layerIndex: number,
    readonly line: number,
    readonly reason: string,
  ) {
    super(`${source}:${line}: ${reason}`);
    this.name = 'ExportError';
  }

  /** An error about `layer` of `network`; the message names the layer index, its type and its cfg line. */
  static at(network: Network, layer: Layer, reason: string): ExportError {
    return new ExportError(
      network.source,
      layer.index,
      layer.line,
      `layer ${layer.index} ([${layer.type}]): ${reason}`,
    );
  }
}
