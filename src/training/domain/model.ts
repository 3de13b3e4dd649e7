import { type ColumnSpec, type Row } from './dataset-spec';
import { encodeRows } from './encoding';
import { type GbdtModel, predictGbdt } from './gbdt';
import { type LogisticRegressionModel, predictLogisticRegression } from './logistic-regression';

export type TrainedModel = LogisticRegressionModel | GbdtModel;

/** Class probabilities (rows × classes, in class order), computed in TypeScript. */
export function predictProbabilities(
  model: TrainedModel,
  features: readonly ColumnSpec[],
  rows: readonly Row[],
): number[][] {
  const matrix = encodeRows(features, rows);
  switch (model.family) {
    case 'logistic_regression':
      return predictLogisticRegression(model, matrix);
    case 'gbdt':
      return predictGbdt(model, matrix);
  }
}

export interface LabelRule {
  classes: readonly string[];
  /** Binary only. */
  positiveClass?: string;
  decisionThreshold?: number;
}

/**
 * The label the exported graph outputs: arg-max (first on ties), or for binary models
 * `score >= threshold`, compared in float32 like ONNX Runtime.
 */
export function labelsFromProbabilities(
  probabilities: readonly (readonly number[])[],
  rule: LabelRule,
): string[] {
  const { classes } = rule;
  if (classes.length === 2 && rule.decisionThreshold !== undefined) {
    const positive = rule.positiveClass ?? classes[1] ?? '';
    const positiveIndex = classes.indexOf(positive);
    const negative = classes[1 - positiveIndex] as string;
    const threshold = Math.fround(rule.decisionThreshold);
    return probabilities.map((p) => (Math.fround(p[positiveIndex] ?? 0) >= threshold ? positive : negative));
  }
  return probabilities.map((p) => {
    let best = 0;
    for (let k = 1; k < p.length; k += 1) if ((p[k] as number) > (p[best] as number)) best = k;
    return classes[best] as string;
  });
}
