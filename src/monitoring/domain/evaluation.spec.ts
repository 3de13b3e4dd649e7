import type { ModelSignature, ReferenceProfile } from '../../common/signature';
import { numericSample } from '../../../test/fixtures/drift/generator';
import { type WindowRow, evaluateWindow, evaluationSteps, referenceSteps } from './evaluation';

function makeSignature(overrides: Partial<ModelSignature> = {}): ModelSignature {
  return {
    schemaVersion: 1,
    name: 'credit',
    task: 'binary',
    family: 'logistic_regression',
    target: 'default',
    features: [
      { name: 'income', type: 'numeric', trainingMin: 0, trainingMax: 300, mean: 100, std: 20, example: 100 },
      { name: 'age', type: 'numeric', trainingMin: 18, trainingMax: 90, mean: 40, std: 10, example: 40 },
      { name: 'housing', type: 'categorical', categories: ['own', 'rent'], example: 'own' },
    ],
    classes: ['no', 'yes'],
    positiveClass: 'yes',
    decisionThreshold: 0.5,
    primaryMetric: 'roc_auc',
    hyperParameters: {},
    datasetFingerprint: 'x',
    seed: 1,
    inputs: [],
    outputs: [],
    ...overrides,
  };
}

function makeReference(rowCount = 3000): ReferenceProfile {
  const income = numericSample({ seed: 1, n: 2000, mean: 100, std: 20 });
  const age = numericSample({ seed: 2, n: 2000, mean: 40, std: 10 });
  const scores = numericSample({ seed: 3, n: 2000, mean: 0.3, std: 0.05 });
  return {
    schemaVersion: 1,
    rowCount,
    numeric: {},
    categorical: { housing: { own: 0.6, rent: 0.4 } },
    classBalance: { no: 0.7, yes: 0.3 },
    predictionBalance: { no: 0.75, yes: 0.25 },
    scores: Array.from(scores),
    sample: Array.from(income, (value, index) => ({
      income: value,
      age: age[index]!,
      housing: index % 5 < 3 ? 'own' : 'rent',
    })),
  };
}

function makeWindow(n: number, incomeShift: number, seed = 10): WindowRow[] {
  const income = numericSample({ seed, n, mean: 100 * (1 + incomeShift), std: 20 * (1 + incomeShift) });
  const age = numericSample({ seed: seed + 1, n, mean: 40, std: 10 });
  const scores = numericSample({ seed: seed + 2, n, mean: 0.3, std: 0.05 });
  return Array.from(income, (value, index) => {
    const score = scores[index]!;
    return {
      predictionId: `p${index}`,
      timestamp: 1_000 + index,
      inputs: { income: value, age: age[index]!, housing: index % 5 < 3 ? 'own' : 'rent' },
      label: score >= 0.35 ? 'yes' : 'no',
      probabilities: [1 - score, score],
      score,
      actual: index % 2 === 0 ? (score >= 0.3 ? 'yes' : 'no') : undefined,
    };
  });
}

const options = { driftShareThreshold: 0.5 };

/** A 1,000-row window whose income drifted by −30 %, against the usual reference. */
function shiftedIncomeInput() {
  return {
    model: 'credit',
    version: 1,
    signature: makeSignature(),
    reference: makeReference(),
    trainingMetrics: { roc_auc: 0.8 },
    rows: makeWindow(1000, -0.3),
    evaluatedAt: 5,
    options,
  };
}

describe('evaluateWindow', () => {
  it('detects drift on the shifted feature only', () => {
    const evaluation = evaluateWindow(shiftedIncomeInput());
    const verdicts = Object.fromEntries(
      evaluation.drift!.features.map((feature) => [feature.feature, feature]),
    );
    expect(verdicts.income).toMatchObject({ method: 'wasserstein', drifted: true });
    expect(verdicts.age).toMatchObject({ method: 'wasserstein', drifted: false });
    expect(verdicts.housing).toMatchObject({ method: 'jensenshannon', drifted: false });
    expect(evaluation.drift!.driftShare).toBeCloseTo(1 / 3, 12);
    expect(evaluation.drift!.datasetDrift).toBe(false);
    expect(evaluation.window).toEqual({ size: 1000, labelled: 500, from: 1000, to: 1999 });
    expect(evaluation.quality!.rows).toBe(500);
    expect(evaluation.predictionDrift.score).toMatchObject({ feature: 'score', method: 'wasserstein' });
    expect(evaluation.predictionDrift.label).toMatchObject({
      feature: 'prediction',
      method: 'jensenshannon',
    });
    expect(evaluation.trainingQuality).toEqual({ roc_auc: 0.8 });
  });

  it('comes in steps, one per feature and prediction test, that end in the same evaluation', () => {
    const input = shiftedIncomeInput();
    const steps = evaluationSteps(input);
    let yielded = 0;
    let step = steps.next();
    for (; step.done !== true; step = steps.next()) yielded += 1;
    // The reference of income, age, housing; their tests; then the label's drift (the score's is the
    // last step).
    expect(yielded).toBe(7);
    expect(step.value).toEqual(evaluateWindow(input));
  });

  it('gives the same evaluation from a prepared reference, without preparing it again', () => {
    const input = shiftedIncomeInput();
    const preparing = referenceSteps(input.signature, input.reference);
    let step = preparing.next();
    let yielded = 0;
    for (; step.done !== true; step = preparing.next()) yielded += 1;
    expect(yielded).toBe(3);
    const prepared = step.value;
    expect(prepared.features.get('income')).toMatchObject({ kind: 'numeric', rowCount: 3000 });
    expect(prepared.features.get('housing')).toMatchObject({ kind: 'categorical' });
    expect(Array.from(prepared.scores)).toEqual([...input.reference.scores!].sort((a, b) => a - b));

    const steps = evaluationSteps({ ...input, reference: prepared });
    yielded = 0;
    let evaluated = steps.next();
    for (; evaluated.done !== true; evaluated = steps.next()) yielded += 1;
    expect(yielded).toBe(4);
    expect(evaluated.value).toEqual(evaluateWindow(input));
  });

  it('uses the statistical tests for a small reference', () => {
    const evaluation = evaluateWindow({
      model: 'credit',
      version: 1,
      signature: makeSignature(),
      reference: makeReference(900),
      trainingMetrics: {},
      rows: makeWindow(300, 0),
      evaluatedAt: 5,
      options,
    });
    const methods = evaluation.drift!.features.map((feature) => feature.method);
    expect(methods).toEqual(['ks', 'ks', 'z']);
    expect(evaluation.drift!.driftedCount).toBe(0);
  });

  it('skips drift on a window that is too small, but still reports quality', () => {
    const evaluation = evaluateWindow({
      model: 'credit',
      version: 1,
      signature: makeSignature(),
      reference: makeReference(),
      trainingMetrics: {},
      rows: makeWindow(20, 0),
      evaluatedAt: 5,
      options,
    });
    expect(evaluation.drift).toBeNull();
    expect(evaluation.quality!.rows).toBe(10);
  });

  it('skips features excluded by the privacy policy or missing from the reference', () => {
    const reference = makeReference();
    reference.categorical = {};
    const evaluation = evaluateWindow({
      model: 'credit',
      version: 1,
      signature: makeSignature(),
      reference,
      trainingMetrics: {},
      rows: makeWindow(200, 0),
      evaluatedAt: 5,
      options: { ...options, excludedFeatures: new Set(['age']) },
    });
    expect(evaluation.skippedFeatures).toEqual([
      { feature: 'age', reason: 'excluded_by_privacy' },
      { feature: 'housing', reason: 'no_reference' },
    ]);
    expect(evaluation.drift!.features.map((feature) => feature.feature)).toEqual(['income']);
  });

  it('handles an empty window', () => {
    const evaluation = evaluateWindow({
      model: 'credit',
      version: 1,
      signature: makeSignature(),
      reference: makeReference(),
      trainingMetrics: {},
      rows: [],
      evaluatedAt: 5,
      options,
    });
    expect(evaluation).toMatchObject({
      drift: null,
      quality: null,
      window: { size: 0, from: null, to: null },
    });
  });
});
