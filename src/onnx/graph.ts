/**
 * A small builder for an ONNX graph: float32 initializers, nodes with integer and string
 * attributes, and a `ModelProto` encoded with the schema compiled in `onnx-proto`. The exporter
 * says what the network is; this file knows how ONNX spells it.
 *
 * ONNX's protobuf schema: https://github.com/onnx/onnx/blob/main/onnx/onnx.proto
 */
import onnxProto from 'onnx-proto';
import type { onnx } from 'onnx-proto';

const { onnx: schema } = onnxProto;

/** Integer, integer-list or string attributes: all that Conv, Gemm and Flatten need here. */
export type AttributeValue = number | readonly number[] | string;

/** A fixed size, or a symbolic name that every input with that name shares. */
export type Dimension = number | string;

export interface GraphValue {
  readonly name: string;
  readonly dims: readonly Dimension[];
}

export interface ModelDescription {
  readonly graphName: string;
  readonly inputs: readonly GraphValue[];
  readonly outputs: readonly GraphValue[];
  /** Version of the default (`ai.onnx`) operator set the nodes are written for. */
  readonly opset: number;
  /** Key-value provenance stored in the model (`metadata_props`). */
  readonly metadata: Readonly<Record<string, string>>;
  readonly docString: string;
}

/**
 * IR version 8 (ONNX 1.10 to 1.12): the version of the schema `onnx-proto` was compiled from, and
 * one that covers every opset up to 17.
 */
const IR_VERSION = 8;

const PRODUCER_NAME = 'efficientnet-wasm';

function attribute(name: string, value: AttributeValue): onnx.IAttributeProto {
  const types = schema.AttributeProto.AttributeType;
  if (typeof value === 'string') return { name, type: types.STRING, s: new TextEncoder().encode(value) };
  if (typeof value === 'number') return { name, type: types.INT, i: value };
  return { name, type: types.INTS, ints: [...value] };
}

function valueInfo(value: GraphValue): onnx.IValueInfoProto {
  return {
    name: value.name,
    type: {
      tensorType: {
        elemType: schema.TensorProto.DataType.FLOAT,
        shape: { dim: value.dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

export class OnnxGraphBuilder {
  private readonly nodes: onnx.INodeProto[] = [];
  private readonly initializers: onnx.ITensorProto[] = [];
  private readonly names = new Set<string>();

  /**
   * Adds a float32 constant and returns its name. The values are stored as `raw_data` (the
   * little-endian bytes, as every JS typed array on a little-endian host already is), which is
   * what runtimes read fastest; the array is referenced, not copied, until `encode`.
   */
  initializer(name: string, values: Float32Array, dims: readonly number[]): string {
    this.claim(name);
    this.initializers.push({
      name,
      dataType: schema.TensorProto.DataType.FLOAT,
      dims: [...dims],
      rawData: new Uint8Array(values.buffer, values.byteOffset, values.byteLength),
    });
    return name;
  }

  /** Adds a node whose single output is named `output`, and returns that name. */
  node(opType: string, inputs: readonly string[], output: string, attributes: Readonly<Record<string, AttributeValue>> = {}): string {
    this.claim(output);
    this.nodes.push({
      name: output,
      opType,
      input: [...inputs],
      output: [output],
      attribute: Object.entries(attributes).map(([key, value]) => attribute(key, value)),
    });
    return output;
  }

  /** The serialized `ModelProto`. Nodes were added in execution order, as ONNX requires (topologically sorted). */
  encode(model: ModelDescription): Uint8Array {
    const proto: onnx.IModelProto = {
      irVersion: IR_VERSION,
      producerName: PRODUCER_NAME,
      docString: model.docString,
      opsetImport: [{ domain: '', version: model.opset }],
      metadataProps: Object.entries(model.metadata).map(([key, value]) => ({ key, value })),
      graph: {
        name: model.graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: model.inputs.map(valueInfo),
        output: model.outputs.map(valueInfo),
      },
    };
    return schema.ModelProto.encode(proto).finish();
  }

  /** ONNX values live in one namespace per graph (single static assignment): a reused name is a bug here. */
  private claim(name: string): void {
    if (this.names.has(name)) throw new Error(`ONNX value "${name}" is defined twice`);
    this.names.add(name);
  }
}
