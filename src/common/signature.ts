/**
 * The contract between training (which writes it), the registry (which stores it beside the ONNX
 * artifact, in `signature.json` and in the model's `metadata_props` under the key `vigil.signature`),
 * serving (which validates inputs against it) and monitoring (which reads the training ranges).
 */
export type ModelFamily = 'logistic_regression' | 'gbdt';
export type ModelTask = 'binary' | 'multiclass';

export interface NumericFeature {
  name: string;
  type: 'numeric';
  description?: string;
  /** Physical bounds: a value outside them is rejected with 400 (e.g. a negative income). */
  min?: number;
  max?: number;
  /** Whole numbers only (counts). */
  integer?: boolean;
  /** Range seen in training: a value outside it is accepted, flagged and counted. */
  trainingMin: number;
  trainingMax: number;
  mean: number;
  std: number;
  /** A plausible value, for Swagger examples and the web form. */
  example: number;
}

export interface CategoricalFeature {
  name: string;
  type: 'categorical';
  description?: string;
  /** Every category the model knows; anything else is rejected with 400. */
  categories: string[];
  example: string;
}

export type FeatureSpec = NumericFeature | CategoricalFeature;

export interface ModelSignature {
  schemaVersion: 1;
  /** The dataset / model name, e.g. `iris`, `credit`. */
  name: string;
  task: ModelTask;
  family: ModelFamily;
  target: string;
  features: FeatureSpec[];
  /** Class labels, in the column order of the `probabilities` output. */
  classes: string[];
  /** Binary models: the class whose probability is the `score`. */
  positiveClass?: string;
  /** Binary models: score >= threshold ⇒ positive label (the graph's `label` output applies it). */
  decisionThreshold?: number;
  /** The metric the promotion gate compares (higher is better), e.g. `roc_auc`, `macro_f1`. */
  primaryMetric: string;
  hyperParameters: Record<string, number | string | boolean>;
  /** sha256 of the canonical training data (features + target, in row order). */
  datasetFingerprint: string;
  seed: number;
  /** ONNX graph I/O as exported: one `[N,1]` input per feature, outputs `label` and `probabilities`. */
  inputs: { name: string; type: 'float32' | 'string'; shape: [number, number] }[];
  outputs: { name: string; type: 'float32' | 'string' | 'int64'; shape: number[] }[];
}

/**
 * What monitoring compares production traffic with: written at training time as `reference.json`,
 * stored by the registry with each version.
 */
export interface ReferenceProfile {
  schemaVersion: 1;
  /** Rows in the reference (training) data: Evidently's method choice depends on it. */
  rowCount: number;
  /** The probability levels of every `numeric[…].quantiles` entry (training writes deciles 0.1…0.9). */
  quantileLevels?: number[];
  numeric: Record<string, { min: number; max: number; mean: number; std: number; quantiles: number[] }>;
  categorical: Record<string, Record<string, number>>;
  /** Class balance of the training target (fractions). */
  classBalance: Record<string, number>;
  /** Predicted-label frequencies on the reference rows. */
  predictionBalance: Record<string, number>;
  /** Binary models: the scores the model gave the reference rows (bounded sample). */
  scores?: number[];
  /** A bounded, seeded raw sample of reference rows (feature name → value). */
  sample: Record<string, number | string>[];
}
