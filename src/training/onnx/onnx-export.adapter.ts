import { type ModelSignature } from '../../common/signature';
import { type ColumnSpec } from '../domain/dataset-spec';
import { type GbdtModel } from '../domain/gbdt';
import { type LogisticRegressionModel } from '../domain/logistic-regression';
import { type TrainedModel } from '../domain/model';
import { OnnxGraphBuilder, encodeModel } from './onnx-graph';

/**
 * Writes a trained model as ONNX (standard + `ai.onnx.ml` ops, no ZipMap):
 * - one `[N,1]` input per feature (float32 numeric, string categorical, the skl2onnx convention);
 * - categorical inputs one-hot encoded in the graph (OneHotEncoder, unknown category ⇒ zeros);
 * - `probabilities` `[N,C]` float32 in `signature.classes` order;
 * - `label` `[N]` string: the arg-max class, or for binary models `score >= decisionThreshold`.
 * Binary trees are a TreeEnsembleRegressor margin + Sigmoid, assembled into [1−p, p] here, which
 * sidesteps onnxruntime's binary TreeEnsembleClassifier quirks.
 */
export const SIGNATURE_METADATA_KEY = 'vigil.signature';

export interface OnnxExportInput {
  features: readonly ColumnSpec[];
  model: TrainedModel;
  signature: ModelSignature;
}

function designMatrix(graph: OnnxGraphBuilder, features: readonly ColumnSpec[]): string {
  const blocks = features.map((feature) => {
    if (feature.type === 'numeric') return graph.input(feature.name, 'float32', ['N', 1]);
    const input = graph.input(feature.name, 'string', ['N', 1]);
    const oneHot = graph.op(
      'OneHotEncoder',
      [input],
      { cats_strings: feature.categories, zeros: 1 },
      { domain: 'ai.onnx.ml' },
    );
    return graph.op('Flatten', [oneHot], { axis: 1 });
  });
  return blocks.length === 1 ? (blocks[0] as string) : graph.op('Concat', blocks, { axis: 1 });
}

function logisticProbabilities(graph: OnnxGraphBuilder, x: string, model: LogisticRegressionModel): string {
  const scaled = graph.op(
    'Scaler',
    [x],
    { offset: { floats: model.offsets }, scale: { floats: model.scales } },
    { domain: 'ai.onnx.ml' },
  );
  const cols = model.offsets.length;
  // Gemm's B is D × K: transpose the K × D weights.
  const transposed: number[] = [];
  for (let j = 0; j < cols; j += 1) for (const row of model.weights) transposed.push(row[j] as number);
  const weights = graph.constantFloat(transposed, [cols, model.classCount], 'weights');
  const intercepts = graph.constantFloat(model.intercepts, [model.classCount], 'intercepts');
  const scores = graph.op('Gemm', [scaled, weights, intercepts]);
  return graph.op('Softmax', [scores], { axis: 1 }, { output: 'probabilities' });
}

/** Returns the probabilities tensor, and for binary models the positive score `[N,1]`. */
function gbdtProbabilities(
  graph: OnnxGraphBuilder,
  x: string,
  model: GbdtModel,
): { probabilities: string; score?: string } {
  const margins = model.classCount === 2 ? 1 : model.classCount;
  const attributes = {
    nodes_treeids: [] as number[],
    nodes_nodeids: [] as number[],
    nodes_featureids: [] as number[],
    nodes_modes: [] as string[],
    nodes_values: [] as number[],
    nodes_truenodeids: [] as number[],
    nodes_falsenodeids: [] as number[],
    target_treeids: [] as number[],
    target_nodeids: [] as number[],
    target_ids: [] as number[],
    target_weights: [] as number[],
  };
  model.trees.forEach((tree, treeId) => {
    tree.feature.forEach((feature, nodeId) => {
      attributes.nodes_treeids.push(treeId);
      attributes.nodes_nodeids.push(nodeId);
      const leaf = feature < 0;
      attributes.nodes_featureids.push(leaf ? 0 : feature);
      attributes.nodes_modes.push(leaf ? 'LEAF' : 'BRANCH_LEQ');
      attributes.nodes_values.push(leaf ? 0 : (tree.threshold[nodeId] as number));
      attributes.nodes_truenodeids.push(leaf ? 0 : (tree.left[nodeId] as number));
      attributes.nodes_falsenodeids.push(leaf ? 0 : (tree.right[nodeId] as number));
      if (leaf) {
        attributes.target_treeids.push(treeId);
        attributes.target_nodeids.push(nodeId);
        attributes.target_ids.push(tree.target);
        attributes.target_weights.push(tree.value[nodeId] as number);
      }
    });
  });
  const margin = graph.op(
    'TreeEnsembleRegressor',
    [x],
    {
      n_targets: margins,
      nodes_treeids: { ints: attributes.nodes_treeids },
      nodes_nodeids: { ints: attributes.nodes_nodeids },
      nodes_featureids: { ints: attributes.nodes_featureids },
      nodes_modes: attributes.nodes_modes,
      nodes_values: { floats: attributes.nodes_values },
      nodes_truenodeids: { ints: attributes.nodes_truenodeids },
      nodes_falsenodeids: { ints: attributes.nodes_falsenodeids },
      target_treeids: { ints: attributes.target_treeids },
      target_nodeids: { ints: attributes.target_nodeids },
      target_ids: { ints: attributes.target_ids },
      target_weights: { floats: attributes.target_weights },
      base_values: { floats: model.baseMargins },
      aggregate_function: 'SUM',
      post_transform: 'NONE',
    },
    { domain: 'ai.onnx.ml' },
  );
  if (model.classCount !== 2) {
    return { probabilities: graph.op('Softmax', [margin], { axis: 1 }, { output: 'probabilities' }) };
  }
  const score = graph.op('Sigmoid', [margin]);
  const complement = graph.op('Sub', [graph.constantFloat([1], [1, 1], 'one'), score]);
  const columns = model.positiveIndex === 1 ? [complement, score] : [score, complement];
  return { probabilities: graph.op('Concat', columns, { axis: 1 }, { output: 'probabilities' }), score };
}

export function exportOnnx({ features, model, signature }: OnnxExportInput): Uint8Array {
  const graph = new OnnxGraphBuilder(signature.name);
  const x = designMatrix(graph, features);
  const classCount = signature.classes.length;

  let probabilities: string;
  let score: string | undefined;
  if (model.family === 'logistic_regression') {
    probabilities = logisticProbabilities(graph, x, model);
  } else {
    ({ probabilities, score } = gbdtProbabilities(graph, x, model));
  }

  if (classCount === 2) {
    const positive = signature.positiveClass ?? signature.classes[1] ?? '';
    const positiveIndex = signature.classes.indexOf(positive);
    const negative = signature.classes[1 - positiveIndex] as string;
    const positiveScore =
      score ??
      graph.op('Gather', [probabilities, graph.constantInt64([positiveIndex], [1], 'positive_index')], {
        axis: 1,
      });
    const threshold = graph.constantFloat([signature.decisionThreshold ?? 0.5], [1], 'decision_threshold');
    const isPositive = graph.op('GreaterOrEqual', [positiveScore, threshold]);
    const index = graph.op('Cast', [isPositive], { to: 7 /* INT64 */ });
    const flat = graph.op('Reshape', [index, graph.constantInt64([-1], [1], 'flat_shape')]);
    graph.op(
      'Gather',
      [graph.constantString([negative, positive], [2], 'labels'), flat],
      { axis: 0 },
      { output: 'label' },
    );
  } else {
    const index = graph.op('ArgMax', [probabilities], { axis: 1, keepdims: 0 });
    graph.op(
      'Gather',
      [graph.constantString(signature.classes, [classCount], 'classes'), index],
      { axis: 0 },
      { output: 'label' },
    );
  }
  graph.output('label', 'string', ['N']);
  graph.output('probabilities', 'float32', ['N', classCount]);

  return encodeModel(
    graph.build(),
    { [SIGNATURE_METADATA_KEY]: JSON.stringify(signature) },
    `Vigil ${signature.family} model for ${signature.name} (${signature.task}, classes: ${signature.classes.join(', ')})`,
  );
}
