import { parseCfg } from '../../network/parse-network';
import type { LayerWeights, Network, NetworkWeights } from '../../network/types';
import { CURRENT_WEIGHTS_HEADER } from '../../weights/random-weights';

/** A converted model: cfg text, the parsed network and its weights. */
export interface DarknetModel {
  readonly cfgText: string;
  readonly network: Network;
  readonly weights: NetworkWeights;
}

type OptionValue = string | number | readonly number[];

/** Parameters of one `[convolutional]` layer (no batch norm: every affine op is folded into bias/kernel). */
export interface ConvolutionSpec {
  readonly filters: number;
  readonly size: number;
  readonly stride: number;
  /** Zero padding on every side, in pixels. */
  readonly padding: number;
  readonly groups?: number;
  readonly activation: 'linear' | 'leaky' | 'relu';
  /** OIHW, `filters * (channels / groups) * size * size`. */
  readonly kernel: Float32Array;
  readonly biases: Float32Array;
}

/**
 * Accumulates darknet sections and their weights in order; every `add…` returns the new layer's darknet
 * index (0-based after `[net]`) so later `[route]`/`[shortcut]` sections can refer to it.
 */
export class DarknetModelBuilder {
  private readonly sections: string[] = [];
  private readonly layerWeights: Array<LayerWeights | null> = [];

  constructor(
    private readonly name: string,
    input: { width: number; height: number; channels: number },
    comment: readonly string[],
  ) {
    const header = comment.map((line) => `# ${line}`).join('\n');
    this.sections.push(
      `${header}\n${this.section('net', { width: input.width, height: input.height, channels: input.channels, batch: 1, subdivisions: 1 })}`,
    );
  }

  private section(type: string, options: Record<string, OptionValue>): string {
    const lines = Object.entries(options).map(
      ([key, value]) => `${key}=${Array.isArray(value) ? value.join(',') : String(value)}`,
    );
    return [`[${type}]`, ...lines].join('\n');
  }

  private add(type: string, options: Record<string, OptionValue>, weights: LayerWeights | null): number {
    this.sections.push(this.section(type, options));
    this.layerWeights.push(weights);
    return this.layerWeights.length - 1;
  }

  private get nextIndex(): number {
    return this.layerWeights.length;
  }

  convolutional(spec: ConvolutionSpec): number {
    const options: Record<string, OptionValue> = {
      filters: spec.filters,
      size: spec.size,
      stride: spec.stride,
      pad: 0,
      padding: spec.padding,
    };
    if (spec.groups !== undefined && spec.groups !== 1) options['groups'] = spec.groups;
    options['activation'] = spec.activation;
    return this.add('convolutional', options, {
      layerIndex: this.nextIndex,
      biases: spec.biases,
      batchNorm: null,
      weights: spec.kernel,
    });
  }

  maxpool(size: number, stride: number): number {
    return this.add('maxpool', { size, stride }, null);
  }

  /** `output = activation(previous + layer from)`. */
  shortcut(from: number, activation: 'linear' | 'relu'): number {
    return this.add('shortcut', { from, activation }, null);
  }

  /** A copy of one earlier layer's output (a route over a single layer). */
  route(layer: number): number {
    return this.add('route', { layers: layer }, null);
  }

  avgpool(): number {
    return this.add('avgpool', {}, null);
  }

  /** `[connected]` with `weights` as `[output][input]`, linear. */
  connected(output: number, weights: Float32Array, biases: Float32Array): number {
    return this.add(
      'connected',
      { output, activation: 'linear' },
      { layerIndex: this.nextIndex, biases, batchNorm: null, weights },
    );
  }

  softmax(): number {
    return this.add('softmax', { groups: 1 }, null);
  }

  region(options: { anchors: readonly number[]; classes: number; num: number; softmax: boolean }): number {
    return this.add(
      'region',
      {
        anchors: options.anchors,
        classes: options.classes,
        coords: 4,
        num: options.num,
        softmax: options.softmax ? 1 : 0,
      },
      null,
    );
  }

  /** The cfg text, parsed back with darknet's shape rules (so a wrong shape fails here, not at run time). */
  build(): DarknetModel {
    const cfgText = `${this.sections.join('\n\n')}\n`;
    const network = parseCfg(cfgText, `${this.name}.cfg`);
    return { cfgText, network, weights: { header: CURRENT_WEIGHTS_HEADER, layers: this.layerWeights } };
  }
}
