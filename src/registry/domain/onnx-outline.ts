/** What the registry checks of an ONNX file before ONNX Runtime loads it. */
export interface OnnxOutline {
  /** A `graph` field is there. */
  graph: boolean;
  /** Nodes in the graph. */
  nodes: number;
  /** `opset_import` entries. */
  opsets: number;
}

// ModelProto.graph = 7, ModelProto.opset_import = 8, GraphProto.node = 1 (onnx.proto3).
const MODEL_GRAPH = 7;
const MODEL_OPSET_IMPORT = 8;
const GRAPH_NODE = 1;
const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const FIXED32 = 5;

/**
 * The outline of an ONNX `ModelProto`, read off its protobuf fields without decoding the nodes: every
 * field is skipped by its length, the graph's fields are counted. A full decode (`onnx-proto`) of a
 * credit GBDT, whose tree attributes hold thousands of int64 values, was a 20-ms block on the event
 * loop at each registration (docs/performance.md, pass 14); ONNX Runtime reads the whole model next.
 * Throws on bytes that are not well-formed protobuf.
 */
export function onnxOutline(bytes: Uint8Array): OnnxOutline {
  const outline: OnnxOutline = { graph: false, nodes: 0, opsets: 0 };
  readFields(bytes, 0, bytes.length, (field, start, end) => {
    if (field === MODEL_OPSET_IMPORT) outline.opsets += 1;
    else if (field === MODEL_GRAPH) {
      outline.graph = true;
      readFields(bytes, start, end, (graphField) => {
        if (graphField === GRAPH_NODE) outline.nodes += 1;
      });
    }
  });
  return outline;
}

/** Calls `onMessage` with each length-delimited field's number and bytes; checks the others' lengths. */
function readFields(
  bytes: Uint8Array,
  start: number,
  end: number,
  onMessage: (field: number, start: number, end: number) => void,
): void {
  let at = start;
  const varint = (): number => {
    let value = 0;
    for (let shift = 0; shift < 64; shift += 7) {
      if (at >= end) throw new Error(`truncated varint at byte ${at}`);
      const byte = bytes[at++]!;
      // Lengths and field numbers fit in 2^53: only their low bits count.
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
    throw new Error(`varint longer than 10 bytes at byte ${at}`);
  };
  const skip = (length: number): void => {
    if (length > end - at) throw new Error(`field runs past the end at byte ${at}`);
    at += length;
  };
  while (at < end) {
    const tag = varint();
    const field = Math.floor(tag / 8);
    const wireType = tag % 8;
    if (field === 0) throw new Error(`field number 0 at byte ${at}`);
    if (wireType === VARINT) varint();
    else if (wireType === FIXED64) skip(8);
    else if (wireType === FIXED32) skip(4);
    else if (wireType === LENGTH_DELIMITED) {
      const length = varint();
      const from = at;
      skip(length);
      onMessage(field, from, at);
    } else throw new Error(`invalid wire type ${wireType} at byte ${at}`);
  }
}
