import type { ModelFamily, ModelSignature } from '../../common/signature';
import type { LabelledRow } from '../../training/domain/dataset-spec';
import { SeededRandom } from '../../training/domain/random';
import type { Evaluation } from './evaluation';

/** A labelled production row for retraining: the stored inputs and the true label. */
export interface LabelledProductionRow {
  inputs: Record<string, number | string>;
  actual: string;
}

/** Why a retraining run started. */
export type RetrainTrigger = 'manual' | 'feedback' | 'drift' | 'quality';

export interface RetrainSettings {
  /** 0 disables: retrain after this many new feedback rows. */
  everyFeedback: number;
  onDrift: boolean;
  /** 0 disables: retrain when the live primary metric falls below this. */
  qualityThreshold: number;
  /** Live quality on fewer labelled rows than this is too noisy to act on. */
  minLabelledForQuality: number;
}

export const MIN_LABELLED_FOR_QUALITY = 30;
/** Share of the labelled production rows held out for the champion/challenger comparison. */
export const PRODUCTION_HOLDOUT_SHARE = 0.2;

/** The automatic trigger an evaluation fires, if any (drift first, then quality). */
export function evaluationTrigger(
  evaluation: Evaluation,
  primaryMetric: string,
  settings: RetrainSettings,
): { trigger: 'drift' | 'quality'; reason: string } | null {
  if (settings.onDrift && evaluation.drift?.datasetDrift) {
    const drifted = evaluation.drift.features
      .filter((feature) => feature.drifted)
      .map((feature) => feature.feature);
    return {
      trigger: 'drift',
      reason: `dataset drift: ${drifted.length} of ${evaluation.drift.features.length} features drifted (${drifted.join(', ')})`,
    };
  }
  if (
    settings.qualityThreshold > 0 &&
    evaluation.quality &&
    evaluation.quality.rows >= settings.minLabelledForQuality
  ) {
    const metric = primaryMetric in evaluation.quality.metrics ? primaryMetric : 'accuracy';
    const value = evaluation.quality.metrics[metric as keyof typeof evaluation.quality.metrics];
    if (value !== null && value !== undefined && value < settings.qualityThreshold)
      return {
        trigger: 'quality',
        reason: `live ${metric} ${value.toFixed(4)} < ${settings.qualityThreshold} on ${evaluation.quality.rows} labelled predictions`,
      };
  }
  return null;
}

/** Training's algorithm name for a registered family. */
export function algorithmOf(family: ModelFamily): 'logreg' | 'gbdt' {
  return family === 'logistic_regression' ? 'logreg' : 'gbdt';
}

/** The version's hyper-parameters, as `trainModel` accepts them (the decision threshold is re-chosen). */
export function retrainHyperParameters(signature: ModelSignature): Record<string, number> {
  const params: Record<string, number> = {};
  for (const [key, value] of Object.entries(signature.hyperParameters)) {
    if (key === 'decisionThreshold') continue;
    const number = typeof value === 'number' ? value : Number(value);
    if (Number.isFinite(number)) params[key] = number;
  }
  return params;
}

/** Rows `trainingRowsSteps` converts between two yields (~1 ms of credit rows). */
export const TRAINING_ROWS_STEP = 1000;

/**
 * Stored production rows → training rows: only rows with every feature present (the privacy policy
 * may have dropped or hashed some), numeric values as numbers, labels among the classes. In steps: it
 * yields after every `TRAINING_ROWS_STEP` rows, so that a retraining run on the event loop lets
 * requests through (`runInSlices`; `runToEnd` in one block): 50,000 rows were one block of 33–55 ms
 * (docs/performance.md, pass 14).
 */
export function* trainingRowsSteps(
  signature: ModelSignature,
  rows: readonly LabelledProductionRow[],
): Generator<void, { usable: LabelledRow[]; rejected: number }> {
  const usable: LabelledRow[] = [];
  let rejected = 0;
  for (let index = 0; index < rows.length; index++) {
    if (index > 0 && index % TRAINING_ROWS_STEP === 0) yield;
    const row = rows[index]!;
    const features: Record<string, number | string> = {};
    let complete = signature.classes.includes(row.actual);
    for (const feature of signature.features) {
      const value = row.inputs[feature.name];
      if (feature.type === 'numeric') {
        const number = typeof value === 'number' ? value : Number(value);
        if (value === undefined || !Number.isFinite(number)) complete = false;
        else features[feature.name] = number;
      } else if (typeof value !== 'string' || !feature.categories.includes(value)) complete = false;
      else features[feature.name] = value;
    }
    if (complete) usable.push({ features, label: row.actual });
    else rejected += 1;
  }
  return { usable, rejected };
}

/** A seeded split of labelled production rows into extra training rows and a holdout. */
export function splitHoldout<T>(
  rows: readonly T[],
  seed: number,
  share = PRODUCTION_HOLDOUT_SHARE,
): { train: T[]; holdout: T[] } {
  const shuffled = new SeededRandom(seed).shuffle([...rows]);
  const holdoutSize = rows.length >= 10 ? Math.round(rows.length * share) : 0;
  return { holdout: shuffled.slice(0, holdoutSize), train: shuffled.slice(holdoutSize) };
}

export interface ChallengeResult {
  metric: string;
  candidate: number | null;
  production: number | null;
  tolerance: number;
  passed: boolean;
  reason: string;
}

/**
 * Champion/challenger on the same holdout: the candidate passes when its primary metric is not below
 * Production's by more than `tolerance` (the registry's PROMOTION_TOLERANCE, so both gates agree).
 */
export function challenge(
  metric: string,
  candidate: number | null,
  production: number | null,
  tolerance: number,
): ChallengeResult {
  if (candidate === null || !Number.isFinite(candidate))
    return {
      metric,
      candidate,
      production,
      tolerance,
      passed: false,
      reason: `candidate has no ${metric} on the holdout`,
    };
  if (production === null || !Number.isFinite(production))
    return {
      metric,
      candidate,
      production,
      tolerance,
      passed: true,
      reason: `Production has no ${metric} on the holdout`,
    };
  const difference = candidate - production;
  const passed = difference >= -tolerance;
  return {
    metric,
    candidate,
    production,
    tolerance,
    passed,
    reason: `holdout ${metric}: candidate ${candidate.toFixed(4)} vs Production ${production.toFixed(4)} (difference ${difference.toFixed(4)}, tolerance ${tolerance})`,
  };
}
