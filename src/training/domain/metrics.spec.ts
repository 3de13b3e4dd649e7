import {
  accuracy,
  confusionMatrix,
  evaluateClassification,
  logLoss,
  perClassMetrics,
  rocAuc,
  rocAucFromProbabilities,
  scoreDistribution,
} from './metrics';

describe('confusionMatrix', () => {
  it('counts actual rows × predicted columns in class order', () => {
    const m = confusionMatrix(
      ['a', 'b', 'c'],
      ['a', 'a', 'b', 'c', 'c', 'c'],
      ['a', 'b', 'b', 'c', 'a', 'c'],
    );
    expect(m).toEqual({
      labels: ['a', 'b', 'c'],
      matrix: [
        [1, 1, 0],
        [0, 1, 0],
        [1, 0, 2],
      ],
    });
  });

  it('rejects labels outside the class list and length mismatches', () => {
    expect(() => confusionMatrix(['a', 'b'], ['a', 'z'], ['a', 'b'])).toThrow('Unknown class "z"');
    expect(() => confusionMatrix(['a', 'b'], ['a'], ['a', 'b'])).toThrow('Length mismatch');
  });
});

describe('accuracy', () => {
  it.each([
    [['a', 'b', 'c', 'a'], ['a', 'b', 'a', 'a'], 0.75],
    [['a'], ['b'], 0],
    [[], [], 0],
  ])('%j vs %j = %d', (actual, predicted, expected) => {
    expect(accuracy(actual, predicted)).toBe(expected);
  });
});

describe('perClassMetrics (hand-computed)', () => {
  // actual \ predicted: a: [1,1,0]  b: [0,1,0]  c: [1,0,2]
  // a: precision 1/2, recall 1/2, f1 1/2; b: precision 1/2, recall 1, f1 2/3; c: precision 1, recall 2/3, f1 0.8
  const m = confusionMatrix(['a', 'b', 'c'], ['a', 'a', 'b', 'c', 'c', 'c'], ['a', 'b', 'b', 'c', 'a', 'c']);
  const metrics = perClassMetrics(m);

  it.each([
    ['a', 0.5, 0.5, 0.5, 2],
    ['b', 0.5, 1, 2 / 3, 1],
    ['c', 1, 2 / 3, 0.8, 3],
  ])('class %s: precision %d recall %d f1 %d support %d', (label, precision, recall, f1, support) => {
    const k = metrics[label]!;
    expect(k.precision).toBeCloseTo(precision, 12);
    expect(k.recall).toBeCloseTo(recall, 12);
    expect(k.f1).toBeCloseTo(f1, 12);
    expect(k.support).toBe(support);
  });

  it('uses 0 when a class is never predicted (scikit-learn zero_division=0)', () => {
    const never = perClassMetrics(confusionMatrix(['x', 'y'], ['x', 'y'], ['x', 'x']));
    expect(never.y).toEqual({ precision: 0, recall: 0, f1: 0, support: 1 });
    expect(never.x!.precision).toBe(0.5);
  });
});

describe('rocAuc', () => {
  it.each([
    // perfect ranking
    [[false, false, true, true], [0.1, 0.2, 0.8, 0.9], 1],
    // reversed ranking
    [[true, true, false, false], [0.1, 0.2, 0.8, 0.9], 0],
    // pairs (pos, neg): (0.35>0.1) (0.35<0.4) (0.8>0.1) (0.8>0.4) → 3/4 (the scikit-learn doc example)
    [[false, false, true, true], [0.1, 0.4, 0.35, 0.8], 0.75],
    // a tie between a positive and a negative counts one half: (0.5=0.5) ½ + (0.9>0.5) 1 → 1.5/2
    [[false, true, true], [0.5, 0.5, 0.9], 0.75],
    // all scores equal → 0.5
    [[true, false, true, false], [0.3, 0.3, 0.3, 0.3], 0.5],
  ])('%j / %j → %d', (positive, scores, expected) => {
    expect(rocAuc(positive, scores)).toBeCloseTo(expected, 12);
  });

  it('is null with a single class', () => {
    expect(rocAuc([true, true], [0.2, 0.4])).toBeNull();
    expect(rocAuc([false], [0.2])).toBeNull();
  });

  it('one-vs-rest macro average for multiclass', () => {
    const classes = ['a', 'b', 'c'];
    const actual = ['a', 'b', 'c', 'a'];
    const probabilities = [
      [0.8, 0.1, 0.1], // a
      [0.3, 0.6, 0.1], // b
      [0.5, 0.1, 0.4], // c
      [0.2, 0.7, 0.1], // a
    ];
    // a vs rest: positives 0.8, 0.2; negatives 0.3, 0.5 → (0.8>0.3, 0.8>0.5, 0.2<0.3, 0.2<0.5) = 2/4
    // b vs rest: positive 0.6; negatives 0.1, 0.1, 0.7 → 2/3
    // c vs rest: positive 0.4; negatives 0.1, 0.1, 0.1 → 1
    expect(rocAucFromProbabilities(classes, actual, probabilities)).toBeCloseTo((0.5 + 2 / 3 + 1) / 3, 12);
  });

  it('binary AUC ranks by the positive class column (symmetric for complementary columns)', () => {
    const probabilities = [
      [0.9, 0.1],
      [0.2, 0.8],
    ];
    expect(rocAucFromProbabilities(['no', 'yes'], ['no', 'yes'], probabilities)).toBe(1);
    expect(rocAucFromProbabilities(['no', 'yes'], ['no', 'yes'], probabilities, 'no')).toBe(1);
    // Columns that are not complementary show which one is read.
    const skewed = [
      [0.9, 0.95],
      [0.2, 0.8],
    ];
    expect(rocAucFromProbabilities(['no', 'yes'], ['no', 'yes'], skewed)).toBe(0);
    expect(rocAucFromProbabilities(['no', 'yes'], ['no', 'yes'], skewed, 'no')).toBe(1);
  });
});

describe('logLoss', () => {
  it('is the mean negative log-probability of the actual class', () => {
    const loss = logLoss(
      ['a', 'b'],
      ['a', 'b'],
      [
        [0.8, 0.2],
        [0.4, 0.6],
      ],
    );
    expect(loss).toBeCloseTo(-(Math.log(0.8) + Math.log(0.6)) / 2, 12);
  });

  it('clips a zero probability to 1e-15 instead of returning Infinity', () => {
    expect(logLoss(['a', 'b'], ['a'], [[0, 1]])).toBeCloseTo(-Math.log(1e-15), 9);
  });
});

describe('scoreDistribution', () => {
  it('bins scores by actual class; 1.0 falls in the last bin', () => {
    const d = scoreDistribution(['0', '1'], ['0', '0', '1', '1'], [0.01, 0.26, 0.74, 1], 4);
    expect(d.edges).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(d.counts).toEqual({ '0': [1, 1, 0, 0], '1': [0, 0, 1, 1] });
  });
});

describe('evaluateClassification', () => {
  it('binary: headline numbers, threshold and score distribution', () => {
    // TP=1 (0.9), FN=1 (0.3), FP=1 (0.6), TN=1 (0.2) at threshold 0.5
    const report = evaluateClassification({
      classes: ['0', '1'],
      actual: ['1', '1', '0', '0'],
      predicted: ['1', '0', '1', '0'],
      probabilities: [
        [0.1, 0.9],
        [0.7, 0.3],
        [0.4, 0.6],
        [0.8, 0.2],
      ],
      positiveClass: '1',
      decisionThreshold: 0.5,
    });
    expect(report.headline.accuracy).toBe(0.5);
    expect(report.headline.balanced_accuracy).toBe(0.5);
    expect(report.headline.macro_f1).toBe(0.5);
    // positives 0.9, 0.3 vs negatives 0.6, 0.2: (0.9>0.6, 0.9>0.2, 0.3<0.6, 0.3>0.2) = 3/4
    expect(report.headline.roc_auc).toBe(0.75);
    expect(report.decisionThreshold).toBe(0.5);
    expect(report.positiveClass).toBe('1');
    expect(report.scoreDistribution?.counts['1']?.reduce((a, b) => a + b, 0)).toBe(2);
  });

  it('balanced accuracy averages recall over classes present in the actual labels', () => {
    // class c never occurs: balanced accuracy = mean(recall a = 1, recall b = 0.5)
    const report = evaluateClassification({
      classes: ['a', 'b', 'c'],
      actual: ['a', 'b', 'b'],
      predicted: ['a', 'b', 'c'],
    });
    expect(report.headline.balanced_accuracy).toBe(0.75);
    expect(report.headline.macro_recall).toBe(0.5);
    expect(report.headline.roc_auc).toBeNull();
    expect(report.headline.log_loss).toBeNull();
    expect(report.scoreDistribution).toBeUndefined();
  });
});
