/**
 * The few special functions the drift tests need (log-gamma, regularized incomplete gamma, normal
 * CDF), in plain double precision. Accurate to ~1e-13 relative where p-values are decided; checked
 * against SciPy in `test/fixtures/drift/reference-values.json`.
 */

const EPSILON = Number.EPSILON;
const MAX_ITERATIONS = 10_000;
const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

/** Lanczos coefficients (g = 7, n = 9; Godfrey): ~1e-15 relative on Γ for x ≥ 0.5. */
const LANCZOS_G = 7;
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0. */
export function logGamma(x: number): number {
  if (!(x > 0)) return Number.NaN;
  if (x < 0.5) {
    // Reflection keeps the Lanczos sum in its accurate range.
    return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  }
  if (x > 1e7) {
    // Stirling; the Lanczos form loses digits to cancellation this far out.
    const inverse = 1 / x;
    return (x - 0.5) * Math.log(x) - x + LOG_SQRT_2PI + inverse / 12 - (inverse * inverse * inverse) / 360;
  }
  const shifted = x - 1;
  let sum = LANCZOS[0]!;
  for (let index = 1; index < LANCZOS.length; index += 1) sum += LANCZOS[index]! / (shifted + index);
  const t = shifted + LANCZOS_G + 0.5;
  return LOG_SQRT_2PI + (shifted + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** x^a e^-x / Γ(a), the prefactor of both incomplete gamma expansions. */
function gammaPrefactor(a: number, x: number): number {
  return Math.exp(a * Math.log(x) - x - logGamma(a));
}

/** Regularized lower incomplete gamma P(a, x) by its power series (converges fast for x < a + 1). */
function lowerGammaSeries(a: number, x: number): number {
  let term = 1;
  let sum = 1;
  let denominator = a;
  for (let iteration = 0; iteration < MAX_ITERATIONS; iteration += 1) {
    denominator += 1;
    term *= x / denominator;
    sum += term;
    if (term <= sum * EPSILON) break;
  }
  return (sum * gammaPrefactor(a, x)) / a;
}

/** Regularized upper incomplete gamma Q(a, x) by its continued fraction (Cephes `igamc`, x ≥ a + 1). */
function upperGammaContinuedFraction(a: number, x: number): number {
  const prefactor = gammaPrefactor(a, x);
  if (prefactor === 0) return 0;
  const big = 4.503599627370496e15;
  const bigInverse = 2.22044604925031308085e-16;
  let y = 1 - a;
  let z = x + y + 1;
  let c = 0;
  let pkm2 = 1;
  let qkm2 = x;
  let pkm1 = x + 1;
  let qkm1 = z * x;
  let answer = pkm1 / qkm1;
  for (let iteration = 0; iteration < MAX_ITERATIONS; iteration += 1) {
    c += 1;
    y += 1;
    z += 2;
    const yc = y * c;
    const pk = pkm1 * z - pkm2 * yc;
    const qk = qkm1 * z - qkm2 * yc;
    let change = 1;
    if (qk !== 0) {
      const ratio = pk / qk;
      change = Math.abs((answer - ratio) / ratio);
      answer = ratio;
    }
    pkm2 = pkm1;
    pkm1 = pk;
    qkm2 = qkm1;
    qkm1 = qk;
    if (Math.abs(pk) > big) {
      pkm2 *= bigInverse;
      pkm1 *= bigInverse;
      qkm2 *= bigInverse;
      qkm1 *= bigInverse;
    }
    if (change <= EPSILON) break;
  }
  return answer * prefactor;
}

/** Q(a, x) = Γ(a, x) / Γ(a), the regularized upper incomplete gamma function. */
export function upperIncompleteGamma(a: number, x: number): number {
  if (Number.isNaN(a) || Number.isNaN(x) || a <= 0 || x < 0) return Number.NaN;
  if (x === 0) return 1;
  if (x === Number.POSITIVE_INFINITY) return 0;
  if (x < a + 1) return 1 - lowerGammaSeries(a, x);
  return upperGammaContinuedFraction(a, x);
}

/** Survival function of the χ² distribution (`scipy.stats.chi2.sf`). */
export function chiSquareSurvival(statistic: number, degreesOfFreedom: number): number {
  if (Number.isNaN(statistic) || !(degreesOfFreedom > 0)) return Number.NaN;
  if (statistic <= 0) return 1;
  return upperIncompleteGamma(degreesOfFreedom / 2, statistic / 2);
}

/** Complementary error function: erfc(x) = Q(1/2, x²) for x ≥ 0. */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  if (x < 0) return 2 - erfc(-x);
  return upperIncompleteGamma(0.5, x * x);
}

/** Standard normal CDF (`scipy.stats.norm.cdf`). */
export function normalCdf(x: number): number {
  return 0.5 * erfc(-x / Math.SQRT2);
}

/** Rounds half to even, as NumPy's `np.round` does. */
export function roundHalfEven(value: number): number {
  const floor = Math.floor(value);
  const fraction = value - floor;
  if (fraction > 0.5) return floor + 1;
  if (fraction < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}
