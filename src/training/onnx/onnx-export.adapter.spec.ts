import { onnx } from 'onnx-proto';
import { trainModel } from '../training.service';
import { SIGNATURE_METADATA_KEY } from './onnx-export.adapter';

const { DataType } = onnx.TensorProto;

function decode(bytes: Uint8Array) {
  const model = onnx.ModelProto.decode(bytes);
  const graph = model.graph!;
  const io = (values: onnx.IValueInfoProto[]) =>
    values.map((v) => ({
      name: v.name,
      type: v.type!.tensorType!.elemType,
      dims: v.type!.tensorType!.shape!.dim!.map((d) => d.dimParam || Number(d.dimValue)),
    }));
  return {
    model,
    inputs: io(graph.input ?? []),
    outputs: io(graph.output ?? []),
    ops: (graph.node ?? []).map((n) => `${n.domain}:${n.opType}`),
  };
}

describe('exportOnnx', () => {
  it('iris logistic regression: one [N,1] float input per feature, string label, [N,3] probabilities', async () => {
    const result = await trainModel({ dataset: 'iris', algorithm: 'logreg' });
    const { model, inputs, outputs, ops } = decode(result.onnx);
    expect(inputs).toEqual(
      ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'].map((name) => ({
        name,
        type: DataType.FLOAT,
        dims: ['N', 1],
      })),
    );
    expect(outputs).toEqual([
      { name: 'label', type: DataType.STRING, dims: ['N'] },
      { name: 'probabilities', type: DataType.FLOAT, dims: ['N', 3] },
    ]);
    expect(ops).toEqual([':Concat', 'ai.onnx.ml:Scaler', ':Gemm', ':Softmax', ':ArgMax', ':Gather']);
    expect(model.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([
      ['', 17],
      ['ai.onnx.ml', 3],
    ]);
    const embedded = model.metadataProps.find((p) => p.key === SIGNATURE_METADATA_KEY);
    expect(JSON.parse(embedded!.value!)).toEqual(result.signature);
  });

  it('credit GBDT: string inputs for categories, one-hot inside the graph, margin + sigmoid, thresholded label', async () => {
    const result = await trainModel({ dataset: 'credit', algorithm: 'gbdt', hyperParameters: { rounds: 5 } });
    const { inputs, outputs, ops } = decode(result.onnx);
    expect(inputs.find((i) => i.name === 'housing')).toEqual({
      name: 'housing',
      type: DataType.STRING,
      dims: ['N', 1],
    });
    expect(inputs.find((i) => i.name === 'age')).toEqual({
      name: 'age',
      type: DataType.FLOAT,
      dims: ['N', 1],
    });
    expect(outputs[1]).toEqual({ name: 'probabilities', type: DataType.FLOAT, dims: ['N', 2] });
    expect(ops.filter((op) => op === 'ai.onnx.ml:OneHotEncoder')).toHaveLength(3);
    expect(ops).toEqual(
      expect.arrayContaining(['ai.onnx.ml:TreeEnsembleRegressor', ':Sigmoid', ':GreaterOrEqual']),
    );
    expect(ops).not.toContain('ai.onnx.ml:ZipMap');
    expect(ops).not.toContain('ai.onnx.ml:TreeEnsembleClassifier');
  }, 60_000);
});
