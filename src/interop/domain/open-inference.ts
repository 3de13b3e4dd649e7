import { type FieldProblem, InvalidInputError } from '../../common/errors';
import type { FeatureSpec, ModelSignature } from '../../common/signature';

/**
 * The Open Inference Protocol (KServe V2, Triton, MLServer), REST flavour: translation between its
 * tensors and Vigil's rows. Normative text: kserve/open-inference-protocol `inference_rest.md`.
 * Vigil's models take one `[N, 1]` tensor per feature and produce `label` `[N]` and `probabilities`
 * `[N, C]`, so each request input is one feature and each row of the batch is one instance.
 */

/** Every datatype the spec defines (`Tensor Data Types`). */
export const DATATYPES = [
  'BOOL',
  'UINT8',
  'UINT16',
  'UINT32',
  'UINT64',
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'FP16',
  'FP32',
  'FP64',
  'BYTES',
] as const;
export type Datatype = (typeof DATATYPES)[number];

/** Numeric features are float32 in the graph; any numeric tensor type converts to it. */
const NUMERIC_DATATYPES: ReadonlySet<string> = new Set(
  DATATYPES.filter((type) => type !== 'BOOL' && type !== 'BYTES'),
);
const INTEGER_RANGES: Readonly<Record<string, readonly [number, number]>> = {
  INT8: [-128, 127],
  INT16: [-32_768, 32_767],
  INT32: [-2_147_483_648, 2_147_483_647],
  INT64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  UINT8: [0, 255],
  UINT16: [0, 65_535],
  UINT32: [0, 4_294_967_295],
  UINT64: [0, Number.MAX_SAFE_INTEGER],
};

/** The `platform` of every Vigil model: the spec's name for an ONNX model run by ONNX Runtime. */
export const PLATFORM = 'onnx_onnxv1';

/** Outputs of the graph, then Vigil extras returned only when asked for by name. */
export const MODEL_OUTPUTS = ['label', 'probabilities'] as const;
export type OutputName = 'label' | 'probabilities' | 'score' | 'prediction_id';

export type Parameters = Record<string, string | number | boolean>;

export interface MetadataTensor {
  name: string;
  datatype: Datatype;
  shape: number[];
}

export interface ModelMetadataResponse {
  name: string;
  versions: string[];
  platform: string;
  inputs: MetadataTensor[];
  outputs: MetadataTensor[];
}

export interface ResponseOutput {
  name: OutputName;
  shape: number[];
  datatype: Datatype;
  data: (string | number)[];
}

export interface InferResponse {
  model_name: string;
  model_version: string;
  id: string;
  outputs: ResponseOutput[];
}

/** A parsed, checked inference request: one instance per row of the batch. */
export interface InferRequest {
  id?: string;
  instances: Record<string, number | string>[];
  outputs: OutputName[];
}

/** What `inferResponse` needs of a prediction (a subset of `/v1`'s `Prediction`). */
export interface RowPrediction {
  predictionId: string;
  label: string;
  probabilities: Record<string, number>;
  score?: number;
}

export function datatypeOf(feature: FeatureSpec): Datatype {
  return feature.type === 'numeric' ? 'FP32' : 'BYTES';
}

/** The outputs a request may name: the graph's two, plus `score` (binary models) and `prediction_id`. */
export function availableOutputs(signature: ModelSignature): OutputName[] {
  return signature.task === 'binary' && signature.positiveClass !== undefined
    ? ['label', 'probabilities', 'score', 'prediction_id']
    : ['label', 'probabilities', 'prediction_id'];
}

/** `GET /v2/models/{m}[/versions/{v}]`: the tensors as the graph declares them, `-1` for the batch. */
export function modelMetadata(
  name: string,
  versions: readonly number[],
  signature: ModelSignature,
): ModelMetadataResponse {
  return {
    name,
    versions: versions.map(String),
    platform: PLATFORM,
    inputs: signature.features.map((feature) => ({
      name: feature.name,
      datatype: datatypeOf(feature),
      shape: [-1, 1],
    })),
    outputs: [
      { name: 'label', datatype: 'BYTES', shape: [-1] },
      { name: 'probabilities', datatype: 'FP32', shape: [-1, signature.classes.length] },
    ],
  };
}

/**
 * Checks an `$inference_request` against the model and turns its tensors into rows. Every problem
 * is collected (input by input) and thrown together as `InvalidInputError`; element values are then
 * checked by the prediction path's own validator (bounds, categories, integers).
 */
export function readInferRequest(body: unknown, signature: ModelSignature): InferRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidInputError([
      { field: 'body', problem: 'must be a JSON object (an $inference_request)' },
    ]);
  }
  const request = body as Record<string, unknown>;
  const problems: FieldProblem[] = [];
  const result: InferRequest = { instances: [], outputs: [...MODEL_OUTPUTS] };

  if (request.id !== undefined) {
    if (typeof request.id === 'string') result.id = request.id;
    else problems.push({ field: 'id', problem: 'must be a string' });
  }
  checkParameters(request.parameters, 'parameters', problems);
  if (request.outputs !== undefined) result.outputs = readOutputs(request.outputs, signature, problems);

  const features = signature.features;
  const columns = new Map<string, unknown[]>();
  let batch: number | undefined;
  let batchFrom = '';
  const inputs = request.inputs;
  if (inputs === undefined) problems.push({ field: 'inputs', problem: 'is required' });
  else if (!Array.isArray(inputs)) problems.push({ field: 'inputs', problem: 'must be an array' });
  else {
    const byName = new Map(features.map((feature) => [feature.name, feature]));
    inputs.forEach((input: unknown, index) => {
      const tensor = readInput(input, index, byName, columns, problems);
      if (tensor === undefined) return;
      if (batch === undefined) {
        batch = tensor.rows;
        batchFrom = tensor.name;
      } else if (tensor.rows !== batch) {
        problems.push({
          field: tensor.name,
          problem: `has ${tensor.rows} row(s) but ${batchFrom} has ${batch}: every input must have the same batch size`,
        });
        return;
      }
      columns.set(tensor.name, tensor.values);
    });
    const missing = features.filter(
      (feature) => !inputs.some((input) => isObject(input) && input.name === feature.name),
    );
    if (missing.length > 0) {
      problems.push({
        field: 'inputs',
        problem: `missing input(s): ${missing.map((feature) => feature.name).join(', ')}`,
      });
    }
  }
  if (problems.length > 0) throw new InvalidInputError(problems);

  const rows = batch ?? 0;
  const instances = new Array<Record<string, number | string>>(rows);
  for (let row = 0; row < rows; row++) {
    const instance: Record<string, number | string> = {};
    for (const feature of features)
      instance[feature.name] = columns.get(feature.name)![row] as number | string;
    instances[row] = instance;
  }
  result.instances = instances;
  return result;
}

interface InputTensor {
  name: string;
  rows: number;
  values: unknown[];
}

function readInput(
  input: unknown,
  index: number,
  features: ReadonlyMap<string, FeatureSpec>,
  seen: ReadonlyMap<string, unknown>,
  problems: FieldProblem[],
): InputTensor | undefined {
  const at = `inputs[${index}]`;
  if (!isObject(input)) {
    problems.push({ field: at, problem: 'must be an object ($request_input)' });
    return undefined;
  }
  if (typeof input.name !== 'string') {
    problems.push({ field: `${at}.name`, problem: 'is required (a string)' });
    return undefined;
  }
  const name = input.name;
  const feature = features.get(name);
  if (feature === undefined) {
    problems.push({
      field: at,
      problem: `unknown input "${name}"; the model's inputs are: ${[...features.keys()].join(', ')}`,
    });
    return undefined;
  }
  if (seen.has(name)) {
    problems.push({ field: name, problem: 'is given more than once' });
    return undefined;
  }
  const before = problems.length;
  checkParameters(input.parameters, `${name}.parameters`, problems);
  if (isObject(input.parameters) && input.parameters.binary_data_size !== undefined) {
    problems.push({
      field: `${name}.parameters`,
      problem: 'binary tensor data is not supported: send the data as JSON',
    });
  }
  const datatype = input.datatype;
  if (typeof datatype !== 'string') {
    problems.push({ field: `${name}.datatype`, problem: 'is required (a string)' });
  } else if (!(DATATYPES as readonly string[]).includes(datatype)) {
    problems.push({
      field: `${name}.datatype`,
      problem: `"${datatype}" is not a tensor datatype (${DATATYPES.join(', ')})`,
    });
  } else if (feature.type === 'numeric' ? !NUMERIC_DATATYPES.has(datatype) : datatype !== 'BYTES') {
    problems.push({
      field: `${name}.datatype`,
      problem:
        feature.type === 'numeric'
          ? `is ${datatype} but the input is numeric: use FP32 (or FP16, FP64, INT*, UINT*)`
          : `is ${datatype} but the input is categorical: use BYTES (strings)`,
    });
  }
  const shape = readShape(input.shape, name, problems);
  if (!Array.isArray(input.data)) {
    problems.push({ field: `${name}.data`, problem: 'is required (an array)' });
  }
  if (problems.length > before || shape === undefined) return undefined;

  const values = flatten(input.data as unknown[], shape, name, problems);
  if (values === undefined) return undefined;
  const elementProblem = checkElements(values, datatype as Datatype);
  if (elementProblem !== undefined) {
    problems.push({ field: `${name}.data`, problem: elementProblem });
    return undefined;
  }
  return { name, rows: shape[0]!, values };
}

/** `[N]` or `[N, 1]` (the graph's own `[-1, 1]`), N ≥ 1. */
function readShape(shape: unknown, name: string, problems: FieldProblem[]): number[] | undefined {
  const field = `${name}.shape`;
  if (!Array.isArray(shape)) {
    problems.push({ field, problem: 'is required (an array of dimensions)' });
    return undefined;
  }
  if (!shape.every((dimension) => Number.isSafeInteger(dimension) && (dimension as number) >= 0)) {
    problems.push({ field, problem: 'dimensions must be non-negative integers' });
    return undefined;
  }
  const dimensions = shape as number[];
  if (dimensions.length === 0 || dimensions.length > 2 || (dimensions.length === 2 && dimensions[1] !== 1)) {
    problems.push({
      field,
      problem: `is [${dimensions.join(', ')}]; this input takes [N] or [N, 1] (one value per row)`,
    });
    return undefined;
  }
  if (dimensions[0] === 0) {
    problems.push({ field, problem: 'the batch size must be at least 1' });
    return undefined;
  }
  return dimensions;
}

/**
 * Tensor data is row-major, either flat or in its natural nested form; nested data must match the
 * shape exactly, flat data must hold as many elements as the shape does.
 */
function flatten(
  data: unknown[],
  shape: readonly number[],
  name: string,
  problems: FieldProblem[],
): unknown[] | undefined {
  const field = `${name}.data`;
  const expected = shape.reduce((product, dimension) => product * dimension, 1);
  const shapeText = `[${shape.join(', ')}]`;
  if (!data.some(Array.isArray)) {
    if (data.length === expected) return data;
    problems.push({
      field,
      problem: `has ${data.length} element(s) but shape ${shapeText} holds ${expected}`,
    });
    return undefined;
  }
  const values: unknown[] = [];
  const walk = (node: unknown, depth: number): boolean => {
    if (depth === shape.length) {
      if (Array.isArray(node)) return false;
      values.push(node);
      return true;
    }
    return (
      Array.isArray(node) && node.length === shape[depth] && node.every((child) => walk(child, depth + 1))
    );
  };
  if (walk(data, 0)) return values;
  problems.push({ field, problem: `nested data does not match shape ${shapeText}` });
  return undefined;
}

/** The first element that does not fit the datatype, described; undefined when all fit. */
function checkElements(values: readonly unknown[], datatype: Datatype): string | undefined {
  if (datatype === 'BYTES') {
    const index = values.findIndex((value) => typeof value !== 'string');
    return index < 0
      ? undefined
      : `element ${index} is ${describe(values[index])}; BYTES data must be strings`;
  }
  const range = INTEGER_RANGES[datatype];
  for (let index = 0; index < values.length; index++) {
    const value = values[index];
    if (typeof value !== 'number')
      return `element ${index} is ${describe(value)}; ${datatype} data must be numbers`;
    if (range !== undefined && (!Number.isInteger(value) || value < range[0] || value > range[1])) {
      return `element ${index} (${value}) is not a valid ${datatype}`;
    }
  }
  return undefined;
}

function readOutputs(outputs: unknown, signature: ModelSignature, problems: FieldProblem[]): OutputName[] {
  if (!Array.isArray(outputs)) {
    problems.push({ field: 'outputs', problem: 'must be an array' });
    return [];
  }
  const available = availableOutputs(signature);
  const names: OutputName[] = [];
  outputs.forEach((output: unknown, index) => {
    if (!isObject(output) || typeof output.name !== 'string') {
      problems.push({
        field: `outputs[${index}]`,
        problem: 'must be an object with a "name" ($request_output)',
      });
      return;
    }
    checkParameters(output.parameters, `outputs[${index}].parameters`, problems);
    const name = output.name as OutputName;
    if (!available.includes(name)) {
      problems.push({
        field: `outputs[${index}]`,
        problem: `unknown output "${output.name}"; this model's outputs are: ${available.join(', ')}`,
      });
    } else if (!names.includes(name)) {
      names.push(name);
    }
  });
  return names;
}

/** `$parameters`: an object of string, number or boolean values. */
function checkParameters(parameters: unknown, field: string, problems: FieldProblem[]): void {
  if (parameters === undefined) return;
  if (!isObject(parameters)) {
    problems.push({ field, problem: 'must be an object' });
    return;
  }
  for (const [key, value] of Object.entries(parameters)) {
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      problems.push({ field: `${field}.${key}`, problem: 'must be a string, number or boolean' });
    }
  }
}

/** The `$inference_response` for the rows' predictions, with the requested outputs in request order. */
export function inferResponse(
  model: { name: string; version: number; classes: readonly string[] },
  id: string,
  outputs: readonly OutputName[],
  predictions: readonly RowPrediction[],
): InferResponse {
  const rows = predictions.length;
  return {
    model_name: model.name,
    model_version: String(model.version),
    id,
    outputs: outputs.map((name): ResponseOutput => {
      switch (name) {
        case 'label':
          return { name, datatype: 'BYTES', shape: [rows], data: predictions.map((p) => p.label) };
        case 'probabilities': {
          const classes = model.classes;
          const data = new Array<number>(rows * classes.length);
          predictions.forEach((prediction, row) => {
            classes.forEach((label, column) => {
              data[row * classes.length + column] = prediction.probabilities[label] ?? 0;
            });
          });
          return { name, datatype: 'FP32', shape: [rows, classes.length], data };
        }
        case 'score':
          return { name, datatype: 'FP32', shape: [rows], data: predictions.map((p) => p.score ?? 0) };
        case 'prediction_id':
          return { name, datatype: 'BYTES', shape: [rows], data: predictions.map((p) => p.predictionId) };
      }
    }),
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}
