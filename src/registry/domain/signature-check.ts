import type { ModelSignature } from '../../common/signature';

/** What ONNX Runtime reports about a graph's inputs and outputs. */
export interface GraphValue {
  name: string;
  /** `false` for sequences/maps (ZipMap), which onnxruntime-node cannot return. */
  isTensor: boolean;
  /** ORT tensor type: `float32`, `string`, `int64`, … */
  type?: string;
  shape?: readonly (number | string)[];
}
export interface GraphIO {
  inputs: GraphValue[];
  outputs: GraphValue[];
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isString = (value: unknown): value is string => typeof value === 'string' && value !== '';

/** Structural check of a `signature.json`; returns every problem found. */
export function signatureProblems(raw: unknown): string[] {
  if (!isObject(raw)) return ['signature must be a JSON object'];
  const problems: string[] = [];
  if (raw.schemaVersion !== 1) problems.push('signature.schemaVersion must be 1');
  for (const key of ['name', 'family', 'target', 'primaryMetric', 'datasetFingerprint'])
    if (!isString(raw[key])) problems.push(`signature.${key} must be a non-empty string`);
  if (raw.task !== 'binary' && raw.task !== 'multiclass')
    problems.push('signature.task must be "binary" or "multiclass"');
  if (!Array.isArray(raw.features) || raw.features.length === 0) {
    problems.push('signature.features must be a non-empty array');
  } else {
    raw.features.forEach((feature: unknown, index) => {
      if (!isObject(feature) || !isString(feature.name))
        problems.push(`signature.features[${index}].name must be a non-empty string`);
      else if (feature.type === 'categorical') {
        if (!Array.isArray(feature.categories) || !feature.categories.every(isString))
          problems.push(`signature.features[${index}] (${feature.name}): categories must be strings`);
      } else if (feature.type !== 'numeric')
        problems.push(
          `signature.features[${index}] (${feature.name}): type must be "numeric" or "categorical"`,
        );
    });
  }
  if (!Array.isArray(raw.classes) || raw.classes.length < 2 || !raw.classes.every(isString))
    problems.push('signature.classes must list at least two class labels');
  for (const key of ['inputs', 'outputs'] as const) {
    const values = raw[key];
    if (!Array.isArray(values) || values.length === 0)
      problems.push(`signature.${key} must be a non-empty array`);
    else if (!values.every((value) => isObject(value) && isString(value.name) && isString(value.type)))
      problems.push(`signature.${key}[] must each have a name and a type`);
  }
  if (raw.hyperParameters !== undefined && !isObject(raw.hyperParameters))
    problems.push('signature.hyperParameters must be an object');
  return problems;
}

const names = (values: readonly { name: string }[]): string => values.map((value) => value.name).join(', ');

/** Does the graph ONNX Runtime loaded match what the signature promises? Returns every mismatch. */
export function graphProblems(signature: ModelSignature, graph: GraphIO): string[] {
  const problems: string[] = [];
  const graphInputs = new Map(graph.inputs.map((value) => [value.name, value]));
  const graphOutputs = new Map(graph.outputs.map((value) => [value.name, value]));
  const declaredInputs = new Map(signature.inputs.map((value) => [value.name, value]));
  const declaredOutputs = new Map(signature.outputs.map((value) => [value.name, value]));

  for (const declared of signature.inputs) {
    const actual = graphInputs.get(declared.name);
    if (!actual)
      problems.push(
        `signature input "${declared.name}" is not a graph input (graph has: ${names(graph.inputs)})`,
      );
    else if (actual.type !== undefined && actual.type !== declared.type)
      problems.push(
        `input "${declared.name}" is ${actual.type} in the graph but ${declared.type} in the signature`,
      );
    else if (typeof actual.shape?.[1] === 'number' && actual.shape[1] !== declared.shape[1])
      problems.push(
        `input "${declared.name}" has shape [${actual.shape.join(', ')}] in the graph, [${declared.shape.join(', ')}] in the signature`,
      );
  }
  for (const actual of graph.inputs)
    if (!declaredInputs.has(actual.name))
      problems.push(`graph input "${actual.name}" is missing from the signature`);
  for (const feature of signature.features) {
    const input = declaredInputs.get(feature.name);
    if (!input) problems.push(`feature "${feature.name}" has no graph input of the same name`);
    else if ((feature.type === 'numeric') !== (input.type === 'float32'))
      problems.push(`feature "${feature.name}" is ${feature.type} but its input is ${input.type}`);
  }

  for (const actual of graph.outputs) {
    if (!actual.isTensor)
      problems.push(
        `graph output "${actual.name}" is not a tensor (a ZipMap?): ONNX Runtime for Node cannot return it; export with zipmap disabled`,
      );
    if (!declaredOutputs.has(actual.name))
      problems.push(`graph output "${actual.name}" is missing from the signature`);
  }
  for (const declared of signature.outputs) {
    const actual = graphOutputs.get(declared.name);
    if (!actual)
      problems.push(
        `signature output "${declared.name}" is not a graph output (graph has: ${names(graph.outputs)})`,
      );
    else if (actual.isTensor && actual.type !== undefined && actual.type !== declared.type)
      problems.push(
        `output "${declared.name}" is ${actual.type} in the graph but ${declared.type} in the signature`,
      );
  }
  const probabilities = graphOutputs.get('probabilities');
  const classCount = probabilities?.shape?.[1];
  if (typeof classCount === 'number' && classCount !== signature.classes.length)
    problems.push(
      `output "probabilities" has ${classCount} columns but the signature lists ${signature.classes.length} classes`,
    );
  return problems;
}
