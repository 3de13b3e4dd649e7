import { onnx } from 'onnx-proto';

/**
 * A small builder over the official ONNX protobuf schema (`onnx-proto`): nodes, constant
 * initializers and typed I/O. Everything is emitted in insertion order, so the same calls always
 * encode to the same bytes.
 */
export type AttributeValue =
  number | string | string[] | { float: number } | { ints: number[] } | { floats: number[] };

export type ElementType = 'float32' | 'int64' | 'string' | 'bool';

const DATA_TYPES: Record<ElementType, onnx.TensorProto.DataType> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  int64: onnx.TensorProto.DataType.INT64,
  string: onnx.TensorProto.DataType.STRING,
  bool: onnx.TensorProto.DataType.BOOL,
};

const encoder = new TextEncoder();

function attribute(name: string, value: AttributeValue): onnx.IAttributeProto {
  const { AttributeType } = onnx.AttributeProto;
  // A bare number is an INT attribute; floats are spelled `{ float }` so that 1.0 stays a float.
  if (typeof value === 'number') return { name, type: AttributeType.INT, i: value };
  if (typeof value === 'string') return { name, type: AttributeType.STRING, s: encoder.encode(value) };
  if (Array.isArray(value)) {
    return { name, type: AttributeType.STRINGS, strings: value.map((v) => encoder.encode(v)) };
  }
  if ('float' in value) return { name, type: AttributeType.FLOAT, f: value.float };
  if ('ints' in value) return { name, type: AttributeType.INTS, ints: value.ints };
  return { name, type: AttributeType.FLOATS, floats: value.floats };
}

/** Dimension: a number, or a string for a symbolic dimension (`"N"`). */
export type Dim = number | string;

function valueInfo(name: string, type: ElementType, shape: Dim[]): onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: DATA_TYPES[type],
        shape: { dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

export class OnnxGraphBuilder {
  private readonly nodes: onnx.INodeProto[] = [];
  private readonly initializers: onnx.ITensorProto[] = [];
  private readonly inputs: onnx.IValueInfoProto[] = [];
  private readonly outputs: onnx.IValueInfoProto[] = [];
  private counter = 0;

  constructor(private readonly graphName: string) {}

  /** A fresh, readable tensor name. */
  name(prefix: string): string {
    this.counter += 1;
    return `${prefix}_${this.counter}`;
  }

  input(name: string, type: ElementType, shape: Dim[]): string {
    this.inputs.push(valueInfo(name, type, shape));
    return name;
  }

  output(name: string, type: ElementType, shape: Dim[]): void {
    this.outputs.push(valueInfo(name, type, shape));
  }

  /** Adds a node; returns its output names (fresh ones unless given). */
  node(
    opType: string,
    inputs: string[],
    attributes: Record<string, AttributeValue> = {},
    options: { domain?: string; outputs?: string[] | number } = {},
  ): string[] {
    const outputs =
      typeof options.outputs === 'object'
        ? options.outputs
        : Array.from({ length: options.outputs ?? 1 }, () => this.name(opType.toLowerCase()));
    this.nodes.push({
      name: this.name(`node_${opType}`),
      opType,
      domain: options.domain ?? '',
      input: inputs,
      output: outputs,
      attribute: Object.entries(attributes).map(([key, value]) => attribute(key, value)),
    });
    return outputs;
  }

  /** Single-output shorthand. */
  op(
    opType: string,
    inputs: string[],
    attributes: Record<string, AttributeValue> = {},
    options: { domain?: string; output?: string } = {},
  ): string {
    const [out] = this.node(opType, inputs, attributes, {
      domain: options.domain,
      outputs: options.output === undefined ? 1 : [options.output],
    });
    return out as string;
  }

  constantFloat(values: readonly number[], dims: number[], prefix = 'const'): string {
    const name = this.name(prefix);
    this.initializers.push({ name, dims, dataType: DATA_TYPES.float32, floatData: [...values] });
    return name;
  }

  constantInt64(values: readonly number[], dims: number[], prefix = 'const'): string {
    const name = this.name(prefix);
    this.initializers.push({ name, dims, dataType: DATA_TYPES.int64, int64Data: [...values] });
    return name;
  }

  constantString(values: readonly string[], dims: number[], prefix = 'const'): string {
    const name = this.name(prefix);
    this.initializers.push({
      name,
      dims,
      dataType: DATA_TYPES.string,
      stringData: values.map((v) => encoder.encode(v)),
    });
    return name;
  }

  build(): onnx.IGraphProto {
    return {
      name: this.graphName,
      node: this.nodes,
      initializer: this.initializers,
      input: this.inputs,
      output: this.outputs,
    };
  }
}

export const ONNX_OPSET = 17;
export const ONNX_ML_OPSET = 3;

export function encodeModel(
  graph: onnx.IGraphProto,
  metadata: Record<string, string>,
  docString: string,
): Uint8Array {
  const model: onnx.IModelProto = {
    irVersion: 8,
    producerName: 'vigil',
    // No version or timestamp here: artifacts must be byte-identical across runs and releases.
    producerVersion: '1',
    docString,
    graph,
    opsetImport: [
      { domain: '', version: ONNX_OPSET },
      { domain: 'ai.onnx.ml', version: ONNX_ML_OPSET },
    ],
    metadataProps: Object.entries(metadata).map(([key, value]) => ({ key, value })),
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}
