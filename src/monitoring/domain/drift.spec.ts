import { categoricalSample, numericSample } from '../../../test/fixtures/drift/generator';
import {
  type DriftCase,
  driftReferenceValues,
  relativeError,
} from '../../../test/fixtures/drift/reference-values';
import {
  type FeatureCurrent,
  type FeatureReference,
  chooseDriftMethod,
  datasetDrift,
  featureDrift,
  isDrifted,
  psiLevel,
} from './drift';

function sides(testCase: DriftCase): { reference: FeatureReference; current: FeatureCurrent } {
  if (testCase.kind === 'numeric') {
    const sample = numericSample(testCase.reference).sort();
    return {
      reference: { kind: 'numeric', sample, rowCount: sample.length },
      current: { kind: 'numeric', values: numericSample(testCase.current).sort() },
    };
  }
  const referenceValues = categoricalSample(testCase.reference);
  const frequencies: Record<string, number> = {};
  for (const value of referenceValues) frequencies[value] = (frequencies[value] ?? 0) + 1;
  return {
    reference: { kind: 'categorical', frequencies, rowCount: referenceValues.length },
    current: { kind: 'categorical', values: categoricalSample(testCase.current) },
  };
}

describe('featureDrift against Evidently defaults (re-implemented with SciPy)', () => {
  it.each(driftReferenceValues.drift)('$name', (testCase) => {
    const { reference, current } = sides(testCase);
    const result = featureDrift('x', reference, current);
    expect(result.method).toBe(testCase.method);
    expect(result.drifted).toBe(testCase.drifted);
    expect(relativeError(result.score, testCase.score)).toBeLessThan(1e-9);
    expect(relativeError(result.psi, testCase.psi)).toBeLessThan(1e-9);
  });

  it('accepts reference shares instead of counts', () => {
    const counts = featureDrift(
      'c',
      { kind: 'categorical', frequencies: { a: 600, b: 300, c: 100 }, rowCount: 1000 },
      {
        kind: 'categorical',
        values: [...Array(50).fill('a'), ...Array(40).fill('b'), ...Array(10).fill('c')],
      },
    );
    const shares = featureDrift(
      'c',
      { kind: 'categorical', frequencies: { a: 0.6, b: 0.3, c: 0.1 }, rowCount: 1000 },
      {
        kind: 'categorical',
        values: [...Array(50).fill('a'), ...Array(40).fill('b'), ...Array(10).fill('c')],
      },
    );
    expect(shares.score).toBeCloseTo(counts.score, 12);
    expect(shares.method).toBe('chisquare');
  });

  it('describes the distributions for the report', () => {
    const { reference, current } = sides(driftReferenceValues.drift[0]!);
    const result = featureDrift('x', reference, current);
    const referenceTotal = result.distribution.buckets.reduce((sum, bucket) => sum + bucket.reference, 0);
    expect(referenceTotal).toBeCloseTo(1, 12);
    expect(result.distribution.buckets[0]!.low).toBeDefined();
  });

  it('refuses a numeric reference with categorical values', () => {
    expect(() =>
      featureDrift(
        'x',
        { kind: 'numeric', sample: Float64Array.of(1), rowCount: 1 },
        { kind: 'categorical', values: ['a'] },
      ),
    ).toThrow(TypeError);
  });
});

describe('chooseDriftMethod (Evidently defaults)', () => {
  it.each([
    ['numeric', 1000, 6, 'ks'],
    ['numeric', 1000, 5, 'chisquare'],
    ['numeric', 1000, 2, 'z'],
    ['categorical', 500, 7, 'chisquare'],
    ['categorical', 500, 2, 'z'],
    ['numeric', 1001, 6, 'wasserstein'],
    ['numeric', 1001, 5, 'jensenshannon'],
    ['categorical', 5000, 2, 'jensenshannon'],
  ] as const)('%s, %d reference rows, %d values → %s', (kind, rows, distinct, method) => {
    expect(chooseDriftMethod(kind, rows, distinct)).toBe(method);
  });

  it('uses Evidently inequalities at the threshold', () => {
    expect(isDrifted('ks', 0.05)).toBe(true);
    expect(isDrifted('chisquare', 0.05)).toBe(false);
    expect(isDrifted('z', 0.05)).toBe(false);
    expect(isDrifted('wasserstein', 0.1)).toBe(true);
    expect(isDrifted('jensenshannon', 0.0999)).toBe(false);
    expect(isDrifted('ks', Number.NaN)).toBe(false);
  });

  it('grades PSI', () => {
    expect(psiLevel(0.05)).toBe('none');
    expect(psiLevel(0.1)).toBe('moderate');
    expect(psiLevel(0.25)).toBe('significant');
  });
});

describe('datasetDrift', () => {
  const feature = (drifted: boolean) =>
    ({ drifted }) as unknown as Parameters<typeof datasetDrift>[0][number];

  it('flags the dataset when the drifted share reaches the threshold', () => {
    const result = datasetDrift([feature(true), feature(false)], 0.5);
    expect(result.driftShare).toBe(0.5);
    expect(result.datasetDrift).toBe(true);
    expect(datasetDrift([feature(true), feature(false), feature(false)], 0.5).datasetDrift).toBe(false);
  });

  it('never flags an empty feature list', () => {
    expect(datasetDrift([], 0)).toMatchObject({ driftShare: 0, datasetDrift: false });
  });
});
