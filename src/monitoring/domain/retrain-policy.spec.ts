import { runToEnd } from '../../common/event-loop-slicer';
import type { ModelSignature } from '../../common/signature';
import type { Evaluation } from './evaluation';
import {
  type RetrainSettings,
  algorithmOf,
  challenge,
  evaluationTrigger,
  retrainHyperParameters,
  splitHoldout,
  TRAINING_ROWS_STEP,
  trainingRowsSteps,
} from './retrain-policy';

const settings: RetrainSettings = {
  everyFeedback: 0,
  onDrift: true,
  qualityThreshold: 0.7,
  minLabelledForQuality: 30,
};

function makeEvaluation(overrides: Partial<Evaluation> = {}): Evaluation {
  return {
    model: 'credit',
    version: 1,
    evaluatedAt: 0,
    window: { size: 100, labelled: 40, from: 0, to: 1 },
    drift: null,
    skippedFeatures: [],
    predictionDrift: { label: null, score: null },
    quality: null,
    trainingQuality: {},
    ...overrides,
  };
}

const drift = (datasetDrift: boolean): Evaluation['drift'] => ({
  features: [{ feature: 'income', drifted: true } as never, { feature: 'age', drifted: false } as never],
  driftedCount: 1,
  driftShare: 0.5,
  shareThreshold: 0.5,
  datasetDrift,
});

const quality = (rocAuc: number, rows = 40): Evaluation['quality'] => ({
  rows,
  metrics: {
    accuracy: 0.9,
    balanced_accuracy: 0.8,
    macro_f1: 0.8,
    precision: 0.5,
    recall: 0.5,
    roc_auc: rocAuc,
  },
  confusionMatrix: { labels: ['0', '1'], matrix: [] },
});

describe('evaluationTrigger', () => {
  it('fires on dataset drift when enabled, naming the drifted features', () => {
    expect(evaluationTrigger(makeEvaluation({ drift: drift(true) }), 'roc_auc', settings)).toEqual({
      trigger: 'drift',
      reason: 'dataset drift: 1 of 2 features drifted (income)',
    });
    expect(
      evaluationTrigger(makeEvaluation({ drift: drift(true) }), 'roc_auc', { ...settings, onDrift: false }),
    ).toBeNull();
    expect(
      evaluationTrigger(makeEvaluation({ drift: drift(false) }), 'roc_auc', {
        ...settings,
        qualityThreshold: 0,
      }),
    ).toBeNull();
  });

  it('fires when the live primary metric falls below the threshold, on enough labels', () => {
    expect(evaluationTrigger(makeEvaluation({ quality: quality(0.65) }), 'roc_auc', settings)?.trigger).toBe(
      'quality',
    );
    expect(evaluationTrigger(makeEvaluation({ quality: quality(0.75) }), 'roc_auc', settings)).toBeNull();
    expect(evaluationTrigger(makeEvaluation({ quality: quality(0.65, 10) }), 'roc_auc', settings)).toBeNull();
    expect(
      evaluationTrigger(makeEvaluation({ quality: quality(0.1) }), 'roc_auc', {
        ...settings,
        qualityThreshold: 0,
      }),
    ).toBeNull();
  });
});

const signature = {
  name: 'credit',
  family: 'gbdt',
  seed: 42,
  classes: ['0', '1'],
  features: [
    { name: 'income', type: 'numeric' },
    { name: 'housing', type: 'categorical', categories: ['own', 'rent'] },
  ],
  hyperParameters: { rounds: 300, learningRate: '0.1', decisionThreshold: 0.4, name: 'x' },
} as unknown as ModelSignature;

describe('training inputs', () => {
  it('maps the family to the training algorithm', () => {
    expect(algorithmOf('gbdt')).toBe('gbdt');
    expect(algorithmOf('logistic_regression')).toBe('logreg');
  });

  it('keeps numeric hyper-parameters and lets the decision threshold be chosen again', () => {
    expect(retrainHyperParameters(signature)).toEqual({ rounds: 300, learningRate: 0.1 });
  });

  it('uses only complete production rows with a known label', () => {
    const { usable, rejected } = runToEnd(
      trainingRowsSteps(signature, [
        { inputs: { income: 100, housing: 'own' }, actual: '1' },
        { inputs: { income: '200', housing: 'rent' }, actual: '0' },
        { inputs: { housing: 'own' }, actual: '0' },
        { inputs: { income: 5, housing: '9f86d081884c7d65' }, actual: '0' },
        { inputs: { income: 5, housing: 'own' }, actual: 'maybe' },
      ]),
    );
    expect(usable).toEqual([
      { features: { income: 100, housing: 'own' }, label: '1' },
      { features: { income: 200, housing: 'rent' }, label: '0' },
    ]);
    expect(rejected).toBe(3);
  });

  it('converts the rows in steps of TRAINING_ROWS_STEP', () => {
    const rows = Array.from({ length: 2 * TRAINING_ROWS_STEP + 1 }, (_, index) => ({
      inputs: { income: index, housing: index % 2 === 0 ? 'own' : 'rent' },
      actual: index % 7 === 0 ? 'maybe' : '1',
    }));
    const steps = trainingRowsSteps(signature, rows);
    let yields = 0;
    let step = steps.next();
    for (; step.done !== true; step = steps.next()) yields += 1;
    expect(yields).toBe(2);
    // Row 0 is unlabelled ('maybe'); row 1 is the first usable one, row 2,000 (the last step's) the last.
    expect(step.value.usable[0]).toEqual({ features: { income: 1, housing: 'rent' }, label: '1' });
    expect(step.value.usable.at(-1)).toEqual({ features: { income: 2000, housing: 'own' }, label: '1' });
    expect(step.value.usable).toHaveLength(rows.filter((row) => row.actual === '1').length);
    expect(step.value.rejected).toBe(rows.filter((row) => row.actual === 'maybe').length);
  });

  it('holds out a seeded 20 % of the production rows', () => {
    const rows = Array.from({ length: 50 }, (_, index) => index);
    const first = splitHoldout(rows, 7);
    expect(first.holdout).toHaveLength(10);
    expect(first.train).toHaveLength(40);
    expect([...first.holdout, ...first.train].sort((a, b) => a - b)).toEqual(rows);
    expect(splitHoldout(rows, 7)).toEqual(first);
    expect(splitHoldout([1, 2, 3], 7).holdout).toEqual([]);
  });
});

describe('challenge', () => {
  it('passes a candidate that does not lose by more than the tolerance', () => {
    expect(challenge('roc_auc', 0.81, 0.8, 0.01).passed).toBe(true);
    expect(challenge('roc_auc', 0.795, 0.8, 0.01).passed).toBe(true);
    expect(challenge('roc_auc', 0.78, 0.8, 0.01)).toMatchObject({
      passed: false,
      candidate: 0.78,
      production: 0.8,
    });
  });

  it('fails a candidate without a score, passes one against a Production without', () => {
    expect(challenge('roc_auc', null, 0.8, 0.01).passed).toBe(false);
    expect(challenge('roc_auc', 0.7, null, 0.01).passed).toBe(true);
  });
});
