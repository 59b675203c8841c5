import { serialiseCfg } from '../cfg/serialise-cfg';
import { parseCfg } from './parse-network';
import type { Layer, Network } from './types';

/**
 * Re-validates a network whose layer descriptors were edited: serialises it and parses the text again, so
 * shapes are re-inferred and every cfg rule is re-checked. `source` names the result in later messages.
 */
export function rebuildNetwork(network: Network, layers: readonly Layer[], source: string): Network {
  return { ...parseCfg(serialiseCfg({ ...network, layers }), source), source };
}
