import { type ConfusionMatrix, evaluateClassification } from '../../training/domain/metrics';

/**
 * Live quality on the predictions of the window that received feedback, with the training metric
 * functions (so live and training numbers are computed the same way and compare).
 */

export interface LabelledPrediction {
  /** The label the model predicted. */
  predicted: string;
  /** The true label from feedback. */
  actual: string;
  /** Per class, in the signature's class order. */
  probabilities: readonly number[];
}

export const LIVE_QUALITY_METRICS = [
  'accuracy',
  'balanced_accuracy',
  'macro_f1',
  'precision',
  'recall',
  'roc_auc',
] as const;
export type LiveQualityMetric = (typeof LIVE_QUALITY_METRICS)[number];

export interface LiveQuality {
  /** Labelled predictions the numbers are computed on. */
  rows: number;
  /** Binary: precision and recall of the positive class; multiclass: macro averages. */
  metrics: Record<LiveQualityMetric, number | null>;
  confusionMatrix: ConfusionMatrix;
}

/** Null when nothing in the window has feedback yet. */
export function liveQuality(
  classes: readonly string[],
  rows: readonly LabelledPrediction[],
  positiveClass?: string,
): LiveQuality | null {
  if (rows.length === 0) return null;
  const binary = classes.length === 2;
  const report = evaluateClassification({
    classes,
    actual: rows.map((row) => row.actual),
    predicted: rows.map((row) => row.predicted),
    probabilities: rows.map((row) => row.probabilities),
    positiveClass,
  });
  const positive = binary ? (positiveClass ?? classes[1]!) : undefined;
  const positiveMetrics = positive === undefined ? undefined : report.perClass[positive];
  return {
    rows: rows.length,
    metrics: {
      accuracy: report.headline.accuracy,
      balanced_accuracy: report.headline.balanced_accuracy,
      macro_f1: report.headline.macro_f1,
      precision: positiveMetrics?.precision ?? report.headline.macro_precision,
      recall: positiveMetrics?.recall ?? report.headline.macro_recall,
      roc_auc: binary ? report.headline.roc_auc : null,
    },
    confusionMatrix: report.confusionMatrix,
  };
}
