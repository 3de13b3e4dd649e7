import { numericSample } from '../../../test/fixtures/drift/generator';
import { driftReferenceValues, relativeError } from '../../../test/fixtures/drift/reference-values';
import { kolmogorovSurvival, ksTwoSample, smirnovSurvival } from './kolmogorov-smirnov';

describe('ksTwoSample against scipy.stats.ks_2samp', () => {
  it.each(driftReferenceValues.ks)('$name', ({ reference, current, statistic, pValue }) => {
    const result = ksTwoSample(numericSample(reference), numericSample(current));
    expect(relativeError(result.statistic, statistic)).toBeLessThan(1e-12);
    expect(relativeError(result.pValue, pValue)).toBeLessThan(1e-9);
    expect(result.method).toBe(Math.max(reference.n, current.n) <= 10_000 ? 'exact' : 'asymptotic');
  });

  it('is symmetric in its samples', () => {
    const a = numericSample({ seed: 91, n: 120, mean: 0, std: 1 });
    const b = numericSample({ seed: 92, n: 170, mean: 0.3, std: 1 });
    expect(ksTwoSample(a, b).pValue).toBeCloseTo(ksTwoSample(b, a).pValue, 14);
    expect(ksTwoSample(a, b).statistic).toBe(ksTwoSample(b, a).statistic);
  });

  it('refuses an empty sample', () => {
    expect(() => ksTwoSample([], [1, 2])).toThrow(RangeError);
  });

  it('gives p = 1 for identical samples', () => {
    expect(ksTwoSample([1, 2, 3, 4], [1, 2, 3, 4])).toEqual({ statistic: 0, pValue: 1, method: 'exact' });
  });
});

describe('kolmogorovSurvival against scipy.stats.kstwo.sf', () => {
  it.each(driftReferenceValues.kstwoSf)('n=$n x=$x', ({ n, x, sf }) => {
    expect(relativeError(kolmogorovSurvival(n, x), sf, 1e-300)).toBeLessThan(1e-9);
  });

  it('is 1 at 0 and 0 at 1', () => {
    expect(kolmogorovSurvival(10, 0)).toBe(1);
    expect(kolmogorovSurvival(10, 1)).toBe(0);
    expect(kolmogorovSurvival(2.5, 0.1)).toBeNaN();
  });
});

describe('smirnovSurvival against scipy.special.smirnov', () => {
  it.each(driftReferenceValues.smirnov)('n=$n x=$x', ({ n, x, sf }) => {
    expect(relativeError(smirnovSurvival(n, x), sf)).toBeLessThan(1e-9);
  });
});
