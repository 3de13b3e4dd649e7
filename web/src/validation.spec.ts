import type { CategoricalFeature, NumericFeature } from './types';
import { categoryProblem, checkField, checkInstance, featureOfServerField, numericHint } from './validation';

const age: NumericFeature = {
  name: 'age',
  type: 'numeric',
  min: 18,
  max: 100,
  integer: true,
  trainingMin: 18,
  trainingMax: 85,
  example: 41,
};
const ratio: NumericFeature = {
  name: 'debt_ratio',
  type: 'numeric',
  min: 0,
  trainingMin: 0.02,
  trainingMax: 3,
  example: 0.4,
};
const housing: CategoricalFeature = {
  name: 'housing',
  type: 'categorical',
  categories: ['own', 'mortgage', 'rent'],
  example: 'own',
};

describe('checkField mirrors the server validator', () => {
  it.each([
    [age, '41', false, { ok: true, value: 41 }],
    [age, ' 41 ', false, { ok: true, value: 41 }],
    [age, '', false, { ok: false, problem: 'is required' }],
    [age, '', true, { ok: false, problem: 'must be a number' }],
    [age, 'abc', false, { ok: false, problem: 'must be a number' }],
    [age, '0x20', false, { ok: false, problem: 'must be a number' }],
    [age, '1e400', false, { ok: false, problem: 'must be a finite number' }],
    [age, '41.5', false, { ok: false, problem: 'must be an integer' }],
    [age, '17', false, { ok: false, problem: 'must be >= 18' }],
    [age, '101', false, { ok: false, problem: 'must be <= 100' }],
    [age, '90', false, { ok: true, value: 90, warning: 'outside training range [18, 85]' }],
    [ratio, '.5', false, { ok: true, value: 0.5 }],
    [ratio, '1e-1', false, { ok: true, value: 0.1 }],
    [ratio, '-0.1', false, { ok: false, problem: 'must be >= 0' }],
    [ratio, '1000', false, { ok: true, value: 1000, warning: 'outside training range [0.02, 3]' }],
    [housing, 'rent', false, { ok: true, value: 'rent' }],
    [housing, '', false, { ok: false, problem: 'is required' }],
    [housing, 'castle', false, { ok: false, problem: 'must be one of: own, mortgage, rent' }],
  ])('%o %p (unparsable %p)', (feature, raw, unparsable, expected) => {
    expect(checkField(feature, raw, unparsable)).toEqual(expected);
  });

  it('lists at most 20 categories, as the server does', () => {
    const many = Array.from({ length: 25 }, (_, index) => `c${index}`);
    expect(categoryProblem(many)).toBe(`must be one of: ${many.slice(0, 20).join(', ')}, …`);
  });
});

describe('checkInstance', () => {
  it('returns the typed instance, every problem and the training-range warnings', () => {
    const values: Record<string, string> = { age: '90', debt_ratio: 'x', housing: 'own' };
    const checked = checkInstance([age, ratio, housing], (feature) => ({ raw: values[feature.name] ?? '' }));
    expect(checked.problems).toEqual([{ field: 'debt_ratio', problem: 'must be a number' }]);
    expect(checked.warnings).toEqual([{ field: 'age', problem: 'outside training range [18, 85]' }]);
    expect(checked.instance).toEqual({ age: 90, housing: 'own' });
  });
});

describe('hints and server fields', () => {
  it('states the training range and the allowed bounds', () => {
    expect(numericHint(age)).toBe('Seen in training: 18 to 85 · allowed: 18 to 100 · whole number');
    expect(numericHint(ratio)).toBe('Seen in training: 0.02 to 3 · allowed: 0 or more');
    expect(numericHint({ ...ratio, min: undefined })).toBe('Seen in training: 0.02 to 3');
  });

  it.each([
    ['instances[0].age', 'age'],
    ['age', 'age'],
    ['instances[12].housing', 'housing'],
    ['instances[0].colour', undefined],
    ['instances', undefined],
  ])('%s → %s', (field, expected) => {
    expect(featureOfServerField(field, ['age', 'housing'])).toBe(expected);
  });
});
