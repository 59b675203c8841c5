import { basename } from 'path';
import { onnx } from 'onnx-proto';
import type { Layer, Network } from '../../network/types';
import { layersNeededFor, rawOutputs, type RawOutput } from '../../reference/graph';
import { float32LittleEndianBytes } from '../float32-bytes';

/** The ONNX opset the exports target (Softmax over one axis and Resize with `roi` optional need >= 13). */
export const ONNX_OPSET = 13;
/** IR version 7 is the first that carries opset 13. */
export const ONNX_IR_VERSION = 7;

/** An attribute value: numbers are written as INT when integral and `kind` is not `float`. */
export type OnnxAttributeValue =
  | { readonly kind: 'int'; readonly value: number }
  | { readonly kind: 'float'; readonly value: number }
  | { readonly kind: 'ints'; readonly value: readonly number[] }
  | { readonly kind: 'string'; readonly value: string };

/** Shorthands for attribute values. */
export const attr = {
  int: (value: number): OnnxAttributeValue => ({ kind: 'int', value }),
  float: (value: number): OnnxAttributeValue => ({ kind: 'float', value }),
  ints: (value: readonly number[]): OnnxAttributeValue => ({ kind: 'ints', value }),
  string: (value: string): OnnxAttributeValue => ({ kind: 'string', value }),
};

function attribute(name: string, value: OnnxAttributeValue): onnx.IAttributeProto {
  const { AttributeType } = onnx.AttributeProto;
  switch (value.kind) {
    case 'int':
      return { name, type: AttributeType.INT, i: value.value };
    case 'float':
      return { name, type: AttributeType.FLOAT, f: value.value };
    case 'ints':
      return { name, type: AttributeType.INTS, ints: [...value.value] };
    case 'string':
      return { name, type: AttributeType.STRING, s: new TextEncoder().encode(value.value) };
  }
}

function float32ValueInfo(name: string, dims: readonly number[]): onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: { dim: dims.map((dimValue) => ({ dimValue })) },
      },
    },
  };
}

/** Collects the nodes, initializers, inputs and outputs of one ONNX graph and encodes the model. */
export class OnnxGraphBuilder {
  private readonly nodes: onnx.INodeProto[] = [];
  private readonly initializers: onnx.ITensorProto[] = [];
  private readonly inputs: onnx.IValueInfoProto[] = [];
  private readonly outputs: onnx.IValueInfoProto[] = [];

  /** Adds a node whose single output is `output` (also used as the node name); returns `output`. */
  node(
    opType: string,
    inputs: readonly string[],
    output: string,
    attributes: Readonly<Record<string, OnnxAttributeValue>> = {},
  ): string {
    this.nodes.push({
      opType,
      name: output,
      input: [...inputs],
      output: [output],
      attribute: Object.entries(attributes).map(([name, value]) => attribute(name, value)),
    });
    return output;
  }

  /** A float32 constant (weights, biases, scales); returns its name. */
  floatTensor(name: string, dims: readonly number[], values: Float32Array): string {
    this.initializers.push({
      name,
      dims: [...dims],
      dataType: onnx.TensorProto.DataType.FLOAT,
      rawData: float32LittleEndianBytes(values),
    });
    return name;
  }

  /** An int8, uint8 or int32 constant (quantised weights, zero points, int32 biases); returns its name. */
  integerTensor(name: string, dims: readonly number[], values: Int8Array | Uint8Array | Int32Array): string {
    const { DataType } = onnx.TensorProto;
    const dataType =
      values instanceof Int8Array
        ? DataType.INT8
        : values instanceof Uint8Array
          ? DataType.UINT8
          : DataType.INT32;
    const bytes = new Uint8Array(values.byteLength);
    const view = new DataView(bytes.buffer);
    values.forEach((value, i) => {
      if (values instanceof Int32Array) view.setInt32(i * 4, value, true);
      else if (values instanceof Int8Array) view.setInt8(i, value);
      else view.setUint8(i, value);
    });
    this.initializers.push({ name, dims: [...dims], dataType, rawData: bytes });
    return name;
  }

  /** An int64 constant (shapes); returns its name. */
  int64Tensor(name: string, values: readonly number[]): string {
    this.initializers.push({
      name,
      dims: [values.length],
      dataType: onnx.TensorProto.DataType.INT64,
      int64Data: [...values],
    });
    return name;
  }

  input(name: string, dims: readonly number[]): void {
    this.inputs.push(float32ValueInfo(name, dims));
  }

  output(name: string, dims: readonly number[]): void {
    this.outputs.push(float32ValueInfo(name, dims));
  }

  /** Encodes the model as ONNX protobuf bytes. */
  encode(model: { graphName: string; opset: number; irVersion: number; docString: string }): Uint8Array {
    const proto = onnx.ModelProto.create({
      irVersion: model.irVersion,
      opsetImport: [{ domain: '', version: model.opset }],
      producerName: 'emofleet',
      producerVersion: '0.1.0',
      docString: model.docString,
      graph: {
        name: model.graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    });
    return onnx.ModelProto.encode(proto).finish();
  }
}

/** Lowers one layer into `graph`; `source(i)` names the tensor of layer `i` (-1: the input). Returns its tensor. */
export type LayerLowering = (
  graph: OnnxGraphBuilder,
  layer: Layer,
  source: (index: number) => string,
) => string;

/**
 * The graph of a darknet network, shared by the FP32 and the QDQ export: input `input` (float32 NCHW
 * `[1, channels, height, width]`), the layers the raw outputs need lowered in order by the lowering `prepare`
 * returns (called once the outputs are known, so a misplaced head is reported first), an Identity per raw
 * output (`raw`, `raw_1`, ...), encoded with opset 13 under the cfg's file name and `docString(outputs)`.
 */
export function encodeNetworkGraph(
  network: Network,
  prepare: () => LayerLowering,
  docString: (outputs: readonly RawOutput[]) => string,
): Uint8Array {
  const outputs = rawOutputs(network);
  const needed = layersNeededFor(network, outputs);
  const lower = prepare();
  const graph = new OnnxGraphBuilder();
  graph.input('input', [1, ...network.inputShape]);
  const names = new Map<number, string>([[-1, 'input']]);
  const source = (index: number): string => {
    const name = names.get(index);
    if (name === undefined) throw new Error(`internal: layer ${index} was not lowered before it is used`);
    return name;
  };
  for (const index of needed) {
    const layer = network.layers[index];
    if (!layer) continue;
    names.set(index, lower(graph, layer, source));
  }
  for (const output of outputs) {
    graph.node('Identity', [source(output.layerIndex)], output.name);
    graph.output(output.name, [1, ...output.shape]);
  }
  return graph.encode({
    graphName: basename(network.source),
    opset: ONNX_OPSET,
    irVersion: ONNX_IR_VERSION,
    docString: docString(outputs),
  });
}
