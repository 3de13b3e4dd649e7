import { numericSample } from '../../../test/fixtures/drift/generator';
import { driftReferenceValues, relativeError } from '../../../test/fixtures/drift/reference-values';
import {
  chiSquareContingency,
  chiSquareGoodnessOfFit,
  fillZeroShares,
  histogramCounts,
  jensenShannonDistance,
  normedWasserstein,
  populationStabilityIndex,
  populationStd,
  preciseSum,
  sturgesEdges,
  wassersteinDistance,
  zTestTwoProportions,
} from './stat-tests';

describe('chiSquareGoodnessOfFit against scipy.stats.chisquare', () => {
  it.each(driftReferenceValues.chisquare)(
    '$observed vs $expected',
    ({ observed, expected, statistic, pValue }) => {
      const result = chiSquareGoodnessOfFit(observed, expected);
      expect(relativeError(result.statistic, statistic)).toBeLessThan(1e-12);
      expect(relativeError(result.pValue, pValue)).toBeLessThan(1e-10);
    },
  );

  it('gives p = 0 when a category was never expected', () => {
    expect(chiSquareGoodnessOfFit([3, 1], [4, 0])).toEqual({
      statistic: Number.POSITIVE_INFINITY,
      pValue: 0,
    });
  });

  it('refuses mismatched arrays', () => {
    expect(() => chiSquareGoodnessOfFit([1, 2], [1])).toThrow(RangeError);
  });
});

describe('chiSquareContingency against scipy.stats.chi2_contingency', () => {
  it.each(driftReferenceValues.contingency)('$table', ({ table, statistic, pValue, degreesOfFreedom }) => {
    const result = chiSquareContingency(table);
    expect(result.degreesOfFreedom).toBe(degreesOfFreedom);
    expect(relativeError(result.statistic, statistic)).toBeLessThan(1e-12);
    expect(relativeError(result.pValue, pValue)).toBeLessThan(1e-10);
  });

  it('refuses a zero margin', () => {
    expect(() =>
      chiSquareContingency([
        [0, 0],
        [1, 2],
      ]),
    ).toThrow(RangeError);
  });

  it('applies no correction when asked', () => {
    const corrected = chiSquareContingency([
      [10, 20],
      [30, 40],
    ]);
    const raw = chiSquareContingency(
      [
        [10, 20],
        [30, 40],
      ],
      false,
    );
    expect(raw.statistic).toBeGreaterThan(corrected.statistic);
  });
});

describe('zTestTwoProportions', () => {
  it('matches the pooled two-proportion formula', () => {
    // p1 = 0.3 (n=1000), p2 = 0.4 (n=300); values from NumPy/SciPy with Evidently's formula.
    const result = zTestTwoProportions(300, 1000, 120, 300);
    expect(relativeError(result.statistic, -3.248376217735264)).toBeLessThan(1e-13);
    expect(relativeError(result.pValue, 0.001160656964265483)).toBeLessThan(1e-10);
  });

  it('is 1 for equal proportions', () => {
    expect(zTestTwoProportions(30, 100, 60, 200).pValue).toBe(1);
  });
});

describe('wassersteinDistance against scipy.stats.wasserstein_distance', () => {
  it.each(driftReferenceValues.wasserstein)(
    'n=$reference.n vs n=$current.n',
    ({ reference, current, distance, normed }) => {
      const u = numericSample(reference);
      const v = numericSample(current);
      expect(relativeError(wassersteinDistance(u, v), distance)).toBeLessThan(1e-12);
      expect(relativeError(normedWasserstein(u.sort(), v.sort()), normed)).toBeLessThan(1e-12);
    },
  );

  it('is the mean shift for a translated sample', () => {
    expect(wassersteinDistance([0, 1, 3], [5, 6, 8])).toBeCloseTo(5, 12);
  });

  it('normalizes by at least 0.001', () => {
    expect(normedWasserstein(Float64Array.of(1, 1), Float64Array.of(1.001, 1.001))).toBeCloseTo(1, 9);
  });
});

describe('jensenShannonDistance against scipy.spatial.distance.jensenshannon', () => {
  it.each(driftReferenceValues.jensenshannon)('$p vs $q base=$base', ({ p, q, base, distance }) => {
    expect(relativeError(jensenShannonDistance(p, q, base ?? undefined), distance, 1e-15)).toBeLessThan(
      1e-12,
    );
  });
});

describe('PSI helpers', () => {
  it('fills empty buckets as Evidently does', () => {
    expect(fillZeroShares([0.5, 0.5, 0])).toEqual([0.5, 0.5, 0.0001]);
    expect(fillZeroShares([0.99995, 0.00005, 0])).toEqual([0.99995, 0.00005, 0.00005 / 1e6]);
  });

  it('is 0 for identical shares and grows with the shift', () => {
    expect(populationStabilityIndex([0.2, 0.8], [0.2, 0.8])).toBe(0);
    const small = populationStabilityIndex([0.5, 0.5], [0.45, 0.55]);
    const large = populationStabilityIndex([0.5, 0.5], [0.2, 0.8]);
    expect(small).toBeGreaterThan(0);
    expect(large).toBeGreaterThan(small);
  });
});

describe('histogram helpers (NumPy semantics)', () => {
  it('uses Sturges bins over the range', () => {
    // 16 values: log2(16) + 1 = 5 bins over [0, 15]
    const values = Array.from({ length: 16 }, (_, index) => index);
    const edges = sturgesEdges(values);
    expect(Array.from(edges)).toEqual([0, 3, 6, 9, 12, 15]);
    expect(Array.from(histogramCounts(values, edges))).toEqual([3, 3, 3, 3, 4]);
  });

  it('widens a constant sample by ±0.5', () => {
    expect(Array.from(sturgesEdges([2, 2, 2]))).toEqual([1.5, 2.5]);
  });

  it('ignores values outside the edges', () => {
    expect(Array.from(histogramCounts([-1, 0.5, 3], Float64Array.of(0, 1, 2)))).toEqual([1, 0]);
  });
});

describe('sums and spreads', () => {
  it('compensates rounding', () => {
    expect(preciseSum([1e16, 1, -1e16])).toBe(1);
  });

  it('computes the population std', () => {
    expect(populationStd([2, 4, 4, 4, 5, 5, 7, 9])).toBe(2);
  });
});
