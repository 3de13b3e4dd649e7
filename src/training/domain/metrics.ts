/**
 * Classification metrics, shared by training (test-split evaluation) and monitoring (live quality
 * from labelled feedback). Labels are class-name strings; `classes` fixes the order of the
 * probability columns and of the confusion matrix. Conventions follow scikit-learn: a precision or
 * recall with a zero denominator is 0, ROC AUC is rank-based (ties count one half) and is `null`
 * when only one class is present, log loss clips probabilities to [1e-15, 1 − 1e-15].
 */

export interface ClassMetrics {
  precision: number;
  recall: number;
  f1: number;
  /** Number of actual rows of this class. */
  support: number;
}

/** The flat headline numbers (what `metrics.json` has under `"test"`). */
export interface HeadlineMetrics {
  accuracy: number;
  balanced_accuracy: number;
  macro_precision: number;
  macro_recall: number;
  macro_f1: number;
  /** Binary: ROC AUC of the positive class; multiclass: one-vs-rest macro. `null` if undefined. */
  roc_auc: number | null;
  log_loss: number | null;
}

export interface ConfusionMatrix {
  /** Row = actual class, column = predicted class, both in this order. */
  labels: string[];
  matrix: number[][];
}

export interface ScoreDistribution {
  /** Bin edges: `edges[i] <= score < edges[i+1]` (the last bin includes 1). */
  edges: number[];
  /** Counts per bin, by actual class. */
  counts: Record<string, number[]>;
}

export interface ClassificationReport {
  headline: HeadlineMetrics;
  perClass: Record<string, ClassMetrics>;
  confusionMatrix: ConfusionMatrix;
  rows: number;
  /** Binary only. */
  positiveClass?: string;
  decisionThreshold?: number;
  scoreDistribution?: ScoreDistribution;
}

function checkLengths(actual: readonly unknown[], other: readonly unknown[]): void {
  if (actual.length !== other.length) {
    throw new Error(`Length mismatch: ${actual.length} actual vs ${other.length} predicted`);
  }
}

export function confusionMatrix(
  classes: readonly string[],
  actual: readonly string[],
  predicted: readonly string[],
): ConfusionMatrix {
  checkLengths(actual, predicted);
  const index = new Map(classes.map((label, i) => [label, i]));
  const matrix = classes.map(() => classes.map(() => 0));
  actual.forEach((label, i) => {
    const row = index.get(label);
    const col = index.get(predicted[i] as string);
    if (row === undefined || col === undefined) {
      throw new Error(`Unknown class "${row === undefined ? label : String(predicted[i])}"`);
    }
    (matrix[row] as number[])[col] = ((matrix[row] as number[])[col] as number) + 1;
  });
  return { labels: [...classes], matrix };
}

export function accuracy(actual: readonly string[], predicted: readonly string[]): number {
  checkLengths(actual, predicted);
  if (actual.length === 0) return 0;
  let correct = 0;
  actual.forEach((label, i) => {
    if (label === predicted[i]) correct += 1;
  });
  return correct / actual.length;
}

const ratio = (numerator: number, denominator: number): number =>
  denominator === 0 ? 0 : numerator / denominator;

export function perClassMetrics(matrix: ConfusionMatrix): Record<string, ClassMetrics> {
  const result: Record<string, ClassMetrics> = {};
  matrix.labels.forEach((label, k) => {
    const truePositive = matrix.matrix[k]?.[k] ?? 0;
    const support = (matrix.matrix[k] ?? []).reduce((sum, v) => sum + v, 0);
    const predictedCount = matrix.matrix.reduce((sum, row) => sum + (row[k] ?? 0), 0);
    const precision = ratio(truePositive, predictedCount);
    const recall = ratio(truePositive, support);
    result[label] = { precision, recall, f1: ratio(2 * precision * recall, precision + recall), support };
  });
  return result;
}

/**
 * Area under the ROC curve for one positive class: the probability that a random positive row
 * scores above a random negative one (Mann–Whitney U with average ranks for ties).
 */
export function rocAuc(isPositive: readonly boolean[], scores: readonly number[]): number | null {
  checkLengths(isPositive, scores);
  const order = scores.map((score, i) => ({ score, positive: isPositive[i] === true }));
  order.sort((a, b) => a.score - b.score);
  let positives = 0;
  let rankSum = 0;
  let i = 0;
  while (i < order.length) {
    let j = i;
    while (
      j + 1 < order.length &&
      (order[j + 1] as { score: number }).score === (order[i] as { score: number }).score
    ) {
      j += 1;
    }
    const averageRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k += 1) {
      if ((order[k] as { positive: boolean }).positive) {
        positives += 1;
        rankSum += averageRank;
      }
    }
    i = j + 1;
  }
  const negatives = order.length - positives;
  if (positives === 0 || negatives === 0) return null;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** Binary: AUC of the positive class; multiclass: macro average of one-vs-rest AUCs. */
export function rocAucFromProbabilities(
  classes: readonly string[],
  actual: readonly string[],
  probabilities: readonly (readonly number[])[],
  positiveClass?: string,
): number | null {
  checkLengths(actual, probabilities);
  const column = (k: number): number[] => probabilities.map((p) => p[k] ?? 0);
  if (classes.length === 2) {
    const positive = positiveClass ?? classes[1] ?? '';
    const k = classes.indexOf(positive);
    return rocAuc(
      actual.map((label) => label === positive),
      column(k),
    );
  }
  const aucs: number[] = [];
  for (let k = 0; k < classes.length; k += 1) {
    const auc = rocAuc(
      actual.map((label) => label === classes[k]),
      column(k),
    );
    if (auc === null) return null;
    aucs.push(auc);
  }
  return aucs.reduce((sum, v) => sum + v, 0) / aucs.length;
}

export const LOG_LOSS_EPSILON = 1e-15;

/** Mean negative log-likelihood of the actual class. */
export function logLoss(
  classes: readonly string[],
  actual: readonly string[],
  probabilities: readonly (readonly number[])[],
): number {
  checkLengths(actual, probabilities);
  if (actual.length === 0) return 0;
  let total = 0;
  actual.forEach((label, i) => {
    const k = classes.indexOf(label);
    if (k < 0) throw new Error(`Unknown class "${label}"`);
    const p = Math.min(1 - LOG_LOSS_EPSILON, Math.max(LOG_LOSS_EPSILON, probabilities[i]?.[k] ?? 0));
    total -= Math.log(p);
  });
  return total / actual.length;
}

/** Histogram of the positive-class score, split by actual class. */
export function scoreDistribution(
  classes: readonly string[],
  actual: readonly string[],
  scores: readonly number[],
  bins = 20,
): ScoreDistribution {
  checkLengths(actual, scores);
  const edges = Array.from({ length: bins + 1 }, (_, i) => i / bins);
  const counts: Record<string, number[]> = {};
  for (const label of classes) counts[label] = new Array<number>(bins).fill(0);
  actual.forEach((label, i) => {
    const bin = Math.min(bins - 1, Math.max(0, Math.floor((scores[i] ?? 0) * bins)));
    const row = counts[label];
    if (row) row[bin] = (row[bin] ?? 0) + 1;
  });
  return { edges, counts };
}

export interface EvaluationInput {
  classes: readonly string[];
  actual: readonly string[];
  predicted: readonly string[];
  /** Optional: rows × classes, in `classes` order. Without it, roc_auc and log_loss are null. */
  probabilities?: readonly (readonly number[])[];
  positiveClass?: string;
  decisionThreshold?: number;
}

/** Everything at once: the headline numbers, per-class metrics, confusion matrix, score histogram. */
export function evaluateClassification(input: EvaluationInput): ClassificationReport {
  const { classes, actual, predicted, probabilities } = input;
  const matrix = confusionMatrix(classes, actual, predicted);
  const perClass = perClassMetrics(matrix);
  const values = Object.values(perClass);
  const mean = (pick: (m: ClassMetrics) => number): number =>
    values.reduce((sum, m) => sum + pick(m), 0) / Math.max(1, values.length);
  // Balanced accuracy averages recall over the classes that occur (scikit-learn's definition).
  const present = values.filter((m) => m.support > 0);
  const headline: HeadlineMetrics = {
    accuracy: accuracy(actual, predicted),
    balanced_accuracy: present.reduce((sum, m) => sum + m.recall, 0) / Math.max(1, present.length),
    macro_precision: mean((m) => m.precision),
    macro_recall: mean((m) => m.recall),
    macro_f1: mean((m) => m.f1),
    roc_auc: probabilities
      ? rocAucFromProbabilities(classes, actual, probabilities, input.positiveClass)
      : null,
    log_loss: probabilities ? logLoss(classes, actual, probabilities) : null,
  };
  const report: ClassificationReport = { headline, perClass, confusionMatrix: matrix, rows: actual.length };
  if (classes.length === 2) {
    const positive = input.positiveClass ?? classes[1] ?? '';
    report.positiveClass = positive;
    if (input.decisionThreshold !== undefined) report.decisionThreshold = input.decisionThreshold;
    if (probabilities) {
      const k = classes.indexOf(positive);
      report.scoreDistribution = scoreDistribution(
        classes,
        actual,
        probabilities.map((p) => p[k] ?? 0),
      );
    }
  }
  return report;
}
