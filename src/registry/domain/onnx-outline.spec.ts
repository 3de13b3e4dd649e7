import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { onnx } from 'onnx-proto';
import { onnxOutline } from './onnx-outline';

const MODELS = join(__dirname, '../../../models');

describe('onnxOutline', () => {
  it.each(['iris', 'credit'])('counts what a full decode of models/%s finds', (name) => {
    const bytes = readFileSync(join(MODELS, name, 'model.onnx'));
    const model = onnx.ModelProto.decode(bytes);
    expect(onnxOutline(bytes)).toEqual({
      graph: true,
      nodes: model.graph!.node!.length,
      opsets: model.opsetImport.length,
    });
    expect(model.graph!.node!.length).toBeGreaterThan(1);
  });

  it('finds no graph in a model without one', () => {
    const bytes = onnx.ModelProto.encode({
      irVersion: 8,
      opsetImport: [{ domain: '', version: 17 }],
    }).finish();
    expect(onnxOutline(bytes)).toEqual({ graph: false, nodes: 0, opsets: 1 });
    const empty = onnx.ModelProto.encode({ irVersion: 8, graph: { name: 'g' } }).finish();
    expect(onnxOutline(empty)).toEqual({ graph: true, nodes: 0, opsets: 0 });
  });

  it('throws on bytes that are not protobuf, and on a truncated model', () => {
    expect(() => onnxOutline(Buffer.from('definitely not a protobuf model'))).toThrow(/wire type/);
    expect(() => onnxOutline(Buffer.from('hello'))).toThrow(/wire type/);
    const bytes = readFileSync(join(MODELS, 'credit', 'model.onnx'));
    expect(() => onnxOutline(bytes.subarray(0, bytes.length - 100))).toThrow(/past the end|truncated/);
    expect(() => onnxOutline(Uint8Array.from([0x08, 0xff]))).toThrow(/truncated varint/);
    expect(() => onnxOutline(Uint8Array.from([0x02, 0x00]))).toThrow(/field number 0/);
  });
});
