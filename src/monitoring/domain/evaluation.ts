import { runToEnd } from '../../common/event-loop-slicer';
import type { ModelSignature, ReferenceProfile } from '../../common/signature';
import {
  type DatasetDrift,
  type FeatureDrift,
  type FeatureReference,
  datasetDrift,
  featureDrift,
} from './drift';
import { type LiveQuality, liveQuality } from './quality';

/** One prediction of the window, with its feedback when there is some. */
export interface WindowRow {
  predictionId: string;
  timestamp: number;
  inputs: Record<string, number | string>;
  label: string;
  probabilities: number[];
  score?: number;
  actual?: string;
}

export interface EvaluationOptions {
  driftShareThreshold: number;
  /** Below this many predictions, drift is not computed (a test on 5 rows says nothing). */
  minRowsForDrift?: number;
  /** Features not to test (dropped or hashed by the privacy policy: their stored values are not the raw ones). */
  excludedFeatures?: ReadonlySet<string>;
}

export type SkipReason = 'excluded_by_privacy' | 'no_reference' | 'no_values';

/** A monitoring evaluation of one model version: what is stored in history and rendered in reports. */
export interface Evaluation {
  model: string;
  version: number;
  /** Epoch milliseconds. */
  evaluatedAt: number;
  window: { size: number; labelled: number; from: number | null; to: number | null };
  /** Null when the window is smaller than `minRowsForDrift`. */
  drift: DatasetDrift | null;
  skippedFeatures: { feature: string; reason: SkipReason }[];
  predictionDrift: { label: FeatureDrift | null; score: FeatureDrift | null };
  quality: LiveQuality | null;
  /** The version's test metrics at training time, beside the live ones. */
  trainingQuality: Record<string, number>;
}

export const DEFAULT_MIN_ROWS_FOR_DRIFT = 30;

function sortedNumbers(values: Iterable<unknown>): Float64Array {
  const numbers: number[] = [];
  for (const value of values) {
    const number = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : Number.NaN;
    if (Number.isFinite(number)) numbers.push(number);
  }
  return Float64Array.from(numbers).sort();
}

function* column(
  rows: readonly Record<string, number | string>[],
  name: string,
): Generator<number | string | undefined> {
  for (const row of rows) yield row[name];
}

function referenceFor(
  feature: ModelSignature['features'][number],
  reference: ReferenceProfile,
): FeatureReference | null {
  if (feature.type === 'numeric') {
    const sample = sortedNumbers(column(reference.sample, feature.name));
    return sample.length === 0 ? null : { kind: 'numeric', sample, rowCount: reference.rowCount };
  }
  const frequencies = reference.categorical[feature.name];
  if (!frequencies || Object.values(frequencies).every((value) => !(value > 0))) return null;
  return { kind: 'categorical', frequencies, rowCount: reference.rowCount };
}

/**
 * A version's reference profile as the tests compare with it: each feature's sorted sample or its
 * category frequencies, and the sorted scores. A version's profile never changes, so a caller that
 * evaluates it again and again (the monitoring loop) keeps this instead of the profile: no JSON to
 * parse (1.29 MB for credit) and no sample to sort again.
 */
export interface PreparedReference {
  readonly kind: 'prepared';
  readonly rowCount: number;
  readonly predictionBalance: Record<string, number>;
  /** By feature name; null when the profile has nothing to compare that feature with. */
  readonly features: ReadonlyMap<string, FeatureReference | null>;
  /** Sorted; empty when the profile has none. */
  readonly scores: Float64Array;
}

/** `reference` prepared for `signature`, one feature a step (a 5,000-row sample to sort each). */
export function* referenceSteps(
  signature: ModelSignature,
  reference: ReferenceProfile,
): Generator<void, PreparedReference> {
  const features = new Map<string, FeatureReference | null>();
  for (const feature of signature.features) {
    features.set(feature.name, referenceFor(feature, reference));
    yield;
  }
  return {
    kind: 'prepared',
    rowCount: reference.rowCount,
    predictionBalance: reference.predictionBalance,
    features,
    scores: sortedNumbers(reference.scores ?? []),
  };
}

function isPrepared(reference: ReferenceProfile | PreparedReference): reference is PreparedReference {
  return 'kind' in reference && reference.kind === 'prepared';
}

export interface EvaluationInput {
  model: string;
  version: number;
  signature: ModelSignature;
  reference: ReferenceProfile | PreparedReference;
  trainingMetrics: Record<string, number>;
  rows: readonly WindowRow[];
  evaluatedAt: number;
  options: EvaluationOptions;
}

/** Drift, prediction drift and live quality of a window against the version's reference. */
export function evaluateWindow(input: EvaluationInput): Evaluation {
  return runToEnd(evaluationSteps(input));
}

/**
 * `evaluateWindow` as steps: it yields after each feature's reference is prepared (given a profile, not
 * a `PreparedReference`) and after each feature's test (one feature of a 5,000-row window is a few
 * ms; all of them, tens), so that a caller on the event loop can let requests through between them
 * (`runInSlices`, `common/event-loop-slicer.ts`). Returns the evaluation.
 */
export function* evaluationSteps(input: EvaluationInput): Generator<void, Evaluation> {
  const { signature, rows, options } = input;
  const reference = isPrepared(input.reference)
    ? input.reference
    : yield* referenceSteps(signature, input.reference);
  const minRows = options.minRowsForDrift ?? DEFAULT_MIN_ROWS_FOR_DRIFT;
  let from = Number.POSITIVE_INFINITY;
  let to = Number.NEGATIVE_INFINITY;
  for (const row of rows) {
    if (row.timestamp < from) from = row.timestamp;
    if (row.timestamp > to) to = row.timestamp;
  }
  const labelled = rows.filter((row): row is WindowRow & { actual: string } => row.actual !== undefined);
  const evaluation: Evaluation = {
    model: input.model,
    version: input.version,
    evaluatedAt: input.evaluatedAt,
    window: {
      size: rows.length,
      labelled: labelled.length,
      from: rows.length > 0 ? from : null,
      to: rows.length > 0 ? to : null,
    },
    drift: null,
    skippedFeatures: [],
    predictionDrift: { label: null, score: null },
    quality: liveQuality(
      signature.classes,
      labelled.map((row) => ({ predicted: row.label, actual: row.actual, probabilities: row.probabilities })),
      signature.positiveClass,
    ),
    trainingQuality: input.trainingMetrics,
  };
  if (rows.length < minRows) return evaluation;

  const inputs = rows.map((row) => row.inputs);
  const features: FeatureDrift[] = [];
  for (const feature of signature.features) {
    if (options.excludedFeatures?.has(feature.name)) {
      evaluation.skippedFeatures.push({ feature: feature.name, reason: 'excluded_by_privacy' });
      continue;
    }
    const featureReference = reference.features.get(feature.name) ?? null;
    if (!featureReference) {
      evaluation.skippedFeatures.push({ feature: feature.name, reason: 'no_reference' });
      continue;
    }
    if (featureReference.kind === 'numeric') {
      const values = sortedNumbers(column(inputs, feature.name));
      if (values.length === 0) {
        evaluation.skippedFeatures.push({ feature: feature.name, reason: 'no_values' });
        continue;
      }
      features.push(featureDrift(feature.name, featureReference, { kind: 'numeric', values }));
      yield;
    } else {
      const values: string[] = [];
      for (const value of column(inputs, feature.name)) if (value !== undefined) values.push(String(value));
      if (values.length === 0) {
        evaluation.skippedFeatures.push({ feature: feature.name, reason: 'no_values' });
        continue;
      }
      features.push(featureDrift(feature.name, featureReference, { kind: 'categorical', values }));
      yield;
    }
  }
  evaluation.drift = datasetDrift(features, options.driftShareThreshold);

  if (Object.values(reference.predictionBalance).some((share) => share > 0)) {
    evaluation.predictionDrift.label = featureDrift(
      'prediction',
      { kind: 'categorical', frequencies: reference.predictionBalance, rowCount: reference.rowCount },
      { kind: 'categorical', values: rows.map((row) => row.label) },
    );
    yield;
  }
  const currentScores = sortedNumbers(rows.map((row) => row.score));
  if (reference.scores.length > 0 && currentScores.length > 0) {
    evaluation.predictionDrift.score = featureDrift(
      'score',
      { kind: 'numeric', sample: reference.scores, rowCount: reference.rowCount },
      { kind: 'numeric', values: currentScores },
    );
  }
  return evaluation;
}
