import { driftReferenceValues, relativeError } from '../../../test/fixtures/drift/reference-values';
import {
  chiSquareSurvival,
  erfc,
  logGamma,
  normalCdf,
  roundHalfEven,
  upperIncompleteGamma,
} from './special-functions';

describe('special functions against SciPy', () => {
  it.each(driftReferenceValues.chi2Sf)('chi2.sf($x, $df)', ({ x, df, sf }) => {
    expect(relativeError(chiSquareSurvival(x, df), sf)).toBeLessThan(1e-12);
  });

  it.each(driftReferenceValues.normCdf)('norm.cdf($x)', ({ x, cdf }) => {
    expect(relativeError(normalCdf(x), cdf)).toBeLessThan(1e-13);
  });
});

describe('logGamma', () => {
  it.each([
    [1, 0],
    [2, 0],
    [5, Math.log(24)],
    [0.5, Math.log(Math.sqrt(Math.PI))],
    [0.1, 2.252712651734206],
    [100, 359.1342053695754],
    [1e8, 1742068066.1038349],
  ])('lgamma(%d)', (x, expected) => {
    expect(Math.abs(logGamma(x) - expected)).toBeLessThanOrEqual(1e-13 * Math.max(1, Math.abs(expected)));
  });

  it('is NaN outside its domain', () => {
    expect(logGamma(0)).toBeNaN();
    expect(logGamma(-1)).toBeNaN();
  });
});

describe('incomplete gamma and erfc edge cases', () => {
  it('Q(a, 0) = 1 and Q(a, ∞) = 0', () => {
    expect(upperIncompleteGamma(3, 0)).toBe(1);
    expect(upperIncompleteGamma(3, Number.POSITIVE_INFINITY)).toBe(0);
    expect(upperIncompleteGamma(-1, 2)).toBeNaN();
  });

  it('erfc is symmetric around 1', () => {
    expect(erfc(0)).toBe(1);
    expect(erfc(-0.7) + erfc(0.7)).toBeCloseTo(2, 15);
  });

  it('chi2.sf of a non-positive statistic is 1', () => {
    expect(chiSquareSurvival(0, 3)).toBe(1);
    expect(chiSquareSurvival(2, 0)).toBeNaN();
  });
});

describe('roundHalfEven', () => {
  it.each([
    [0.5, 0],
    [1.5, 2],
    [2.5, 2],
    [2.4, 2],
    [2.6, 3],
    [-2.5, -2],
    [-1.5, -2],
  ])('round(%d) = %d', (value, expected) => {
    expect(roundHalfEven(value)).toBe(expected);
  });
});
