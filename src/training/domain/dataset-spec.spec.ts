import { IRIS_SPEC } from '../datasets/iris.dataset';
import { CREDIT_SPEC } from '../datasets/credit.dataset';
import { parseDatasetSpec, positiveClassOf } from './dataset-spec';

describe('parseDatasetSpec', () => {
  it('accepts the built-in specs (they use the same format as user specs)', () => {
    expect(parseDatasetSpec(JSON.parse(JSON.stringify(IRIS_SPEC)))).toEqual(IRIS_SPEC);
    expect(parseDatasetSpec(JSON.parse(JSON.stringify(CREDIT_SPEC)))).toEqual(CREDIT_SPEC);
  });

  it('lists every problem at once', () => {
    const attempt = () =>
      parseDatasetSpec({
        name: 'bad name!',
        target: 'y',
        classes: ['only'],
        features: [
          { name: 'x', type: 'numeric', min: 5, max: 1 },
          { name: 'x', type: 'categorical', categories: [] },
          { name: 'y', type: 'text' },
        ],
        primaryMetric: 'r2',
        metricThresholds: { precision_at_k: 0.5 },
      });
    expect(attempt).toThrow(/Invalid dataset spec/);
    try {
      attempt();
    } catch (error) {
      expect((error as { details: string[] }).details).toEqual([
        'name: required, letters, digits, "_" or "-"',
        'classes: at least two class labels (strings)',
        'features[0] "x": min > max',
        'features[1] "x": duplicate name',
        'features[1] "x": categories must be a non-empty list of strings',
        'features[2] "y": is the target column',
        'features[2] "y": type must be "numeric" or "categorical"',
        'primaryMetric: one of accuracy, balanced_accuracy, macro_precision, macro_recall, macro_f1, roc_auc',
        'metricThresholds.precision_at_k: unknown metric',
      ]);
      expect((error as { code: string }).code).toBe('INVALID_INPUT');
    }
  });

  it('positive class: explicit, else the second class; none for multiclass', () => {
    expect(positiveClassOf(CREDIT_SPEC)).toBe('1');
    expect(positiveClassOf({ ...CREDIT_SPEC, positiveClass: undefined, classes: ['good', 'bad'] })).toBe(
      'bad',
    );
    expect(positiveClassOf(IRIS_SPEC)).toBeUndefined();
  });
});
