import { type LabelledPrediction, liveQuality } from './quality';

const row = (predicted: string, actual: string, score: number): LabelledPrediction => ({
  predicted,
  actual,
  probabilities: [1 - score, score],
});

describe('liveQuality', () => {
  it('is null without feedback', () => {
    expect(liveQuality(['no', 'yes'], [])).toBeNull();
  });

  it('computes binary metrics for the positive class (values from scikit-learn)', () => {
    // y_true = [yes, yes, no, no, yes, no], y_pred = [yes, no, no, yes, yes, no]
    const rows = [
      row('yes', 'yes', 0.9),
      row('no', 'yes', 0.4),
      row('no', 'no', 0.2),
      row('yes', 'no', 0.7),
      row('yes', 'yes', 0.8),
      row('no', 'no', 0.1),
    ];
    const quality = liveQuality(['no', 'yes'], rows, 'yes')!;
    expect(quality.rows).toBe(6);
    expect(quality.metrics.accuracy).toBeCloseTo(4 / 6, 12);
    expect(quality.metrics.precision).toBeCloseTo(2 / 3, 12);
    expect(quality.metrics.recall).toBeCloseTo(2 / 3, 12);
    expect(quality.metrics.balanced_accuracy).toBeCloseTo(2 / 3, 12);
    expect(quality.metrics.macro_f1).toBeCloseTo(2 / 3, 12);
    // roc_auc_score([1,1,0,0,1,0], [.9,.4,.2,.7,.8,.1]) = 8/9
    expect(quality.metrics.roc_auc).toBeCloseTo(8 / 9, 12);
    expect(quality.confusionMatrix.matrix).toEqual([
      [2, 1],
      [1, 2],
    ]);
  });

  it('uses macro averages and no ROC AUC for multiclass models', () => {
    const rows: LabelledPrediction[] = [
      { predicted: 'a', actual: 'a', probabilities: [0.8, 0.1, 0.1] },
      { predicted: 'b', actual: 'a', probabilities: [0.3, 0.6, 0.1] },
      { predicted: 'c', actual: 'c', probabilities: [0.1, 0.1, 0.8] },
    ];
    const quality = liveQuality(['a', 'b', 'c'], rows)!;
    expect(quality.metrics.roc_auc).toBeNull();
    // precision per class: a 1, b 0, c 1 → 2/3; recall: a 0.5, b 0, c 1 → 0.5
    expect(quality.metrics.precision).toBeCloseTo(2 / 3, 12);
    expect(quality.metrics.recall).toBeCloseTo(0.5, 12);
  });
});
