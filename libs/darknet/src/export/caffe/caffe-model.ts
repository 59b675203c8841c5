import { parse, type Type } from 'protobufjs';
import { float32LittleEndianBytes } from '../float32-bytes';

/**
 * The part of Caffe's `caffe.proto` (BVLC, proto2) a `.caffemodel` of this exporter uses: layers with their
 * names, types, blob connections and parameter blobs. Layer hyper-parameters live in the `.prototxt`, which
 * is what Caffe, OpenCV and TensorRT's Caffe parser read the structure from; they match weights by layer name.
 * Field numbers are Caffe's. `BlobProto.data` is Caffe's `repeated float data = 5 [packed = true]`, declared
 * here as `bytes`: on the wire a packed float array is exactly a length-delimited run of little-endian
 * float32s, so the encoding is identical and a 50M-parameter blob is written in one piece.
 */
const CAFFE_MODEL_PROTO = `
syntax = "proto2";
package caffe;

message BlobShape {
  repeated int64 dim = 1 [packed = true];
}

message BlobProto {
  optional BlobShape shape = 7;
  optional bytes data = 5;
}

message LayerParameter {
  optional string name = 1;
  optional string type = 2;
  repeated string bottom = 3;
  repeated string top = 4;
  repeated BlobProto blobs = 7;
}

message NetParameter {
  optional string name = 1;
  repeated LayerParameter layer = 100;
}
`;

let netParameter: Type | undefined;

function netParameterType(): Type {
  netParameter ??= parse(CAFFE_MODEL_PROTO, { keepCase: true }).root.lookupType('caffe.NetParameter');
  return netParameter;
}

/** One parameter blob (weights, biases, constant scales) with its Caffe shape. */
export interface CaffeBlob {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** A prototxt field value: nested messages, repeated values, enum identifiers, strings, numbers, booleans. */
export type PrototxtValue =
  | number
  | boolean
  | string
  | { readonly enumValue: string }
  | readonly PrototxtValue[]
  | { readonly [field: string]: PrototxtValue };

/** One Caffe layer: its structure for the prototxt and its blobs for the caffemodel. */
export interface CaffeLayer {
  readonly name: string;
  readonly type: string;
  readonly bottom: readonly string[];
  readonly top: readonly string[];
  /** e.g. `{ convolution_param: { num_output: 32, ... } }`. */
  readonly params?: Readonly<Record<string, PrototxtValue>>;
  readonly blobs?: readonly CaffeBlob[];
}

/** A whole Caffe net: one input blob and its layers. */
export interface CaffeNet {
  readonly name: string;
  readonly input: string;
  readonly inputShape: readonly number[];
  readonly layers: readonly CaffeLayer[];
}

/** Encodes the `.caffemodel` (binary NetParameter: layer names, types, connections and blobs). */
export function encodeCaffemodel(net: CaffeNet): Uint8Array {
  const type = netParameterType();
  const message = type.fromObject({
    name: net.name,
    layer: net.layers.map((layer) => ({
      name: layer.name,
      type: layer.type,
      bottom: [...layer.bottom],
      top: [...layer.top],
      blobs: (layer.blobs ?? []).map((blob) => ({
        shape: { dim: [...blob.shape] },
        data: float32LittleEndianBytes(blob.data),
      })),
    })),
  });
  return type.encode(message).finish();
}

function isEnum(value: PrototxtValue): value is { readonly enumValue: string } {
  return typeof value === 'object' && !Array.isArray(value) && 'enumValue' in value;
}

function formatScalar(value: number | boolean | string): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (!Number.isFinite(value)) throw new Error(`prototxt cannot hold the number ${value}`);
  return String(value);
}

function formatField(field: string, value: PrototxtValue, indent: string): string[] {
  if (Array.isArray(value)) return value.flatMap((item: PrototxtValue) => formatField(field, item, indent));
  if (isEnum(value)) return [`${indent}${field}: ${value.enumValue}`];
  if (typeof value === 'object') {
    const inner = Object.entries(value as Record<string, PrototxtValue>).flatMap(([key, item]) =>
      formatField(key, item, `${indent}  `),
    );
    return [`${indent}${field} {`, ...inner, `${indent}}`];
  }
  return [`${indent}${field}: ${formatScalar(value)}`];
}

/** Writes the `.prototxt` (protobuf text format of NetParameter) describing the net's structure. */
export function formatPrototxt(net: CaffeNet): string {
  const lines = [
    `name: ${JSON.stringify(net.name)}`,
    `input: ${JSON.stringify(net.input)}`,
    ...formatField('input_shape', { dim: [...net.inputShape] }, ''),
  ];
  for (const layer of net.layers) {
    const fields: Record<string, PrototxtValue> = {
      name: layer.name,
      type: layer.type,
      bottom: [...layer.bottom],
      top: [...layer.top],
      ...layer.params,
    };
    lines.push(...formatField('layer', fields, ''));
  }
  return `${lines.join('\n')}\n`;
}
