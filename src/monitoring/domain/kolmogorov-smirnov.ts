import { roundHalfEven } from './special-functions';

/**
 * Two-sample Kolmogorov–Smirnov test, two-sided, as SciPy's `ks_2samp(method='auto')`: the exact
 * p-value (Hodges' lattice-path counting) when both samples have at most 10,000 values, otherwise
 * the distribution of D_n with n = round(n1·n2 / (n1 + n2)) (`kstwo.sf`, Simard & L'Ecuyer).
 */

export interface KsResult {
  statistic: number;
  pValue: number;
  method: 'exact' | 'asymptotic';
}

const MAX_EXACT_N = 10_000;
const E128 = 128;
const P128 = 2 ** 128;
const M128 = 2 ** -128;
const MIN_LOG = -708;

/** `a` and `b` must be sorted ascending (Float64Array.prototype.sort sorts numerically). */
export function ksStatisticSorted(a: Float64Array, b: Float64Array): number {
  const n1 = a.length;
  const n2 = b.length;
  let i = 0;
  let j = 0;
  let maxDiff = Number.NEGATIVE_INFINITY;
  let minDiff = Number.POSITIVE_INFINITY;
  while (i < n1 || j < n2) {
    const value = j >= n2 || (i < n1 && a[i]! <= b[j]!) ? a[i]! : b[j]!;
    while (i < n1 && a[i]! <= value) i += 1;
    while (j < n2 && b[j]! <= value) j += 1;
    const diff = i / n1 - j / n2;
    if (diff > maxDiff) maxDiff = diff;
    if (diff < minDiff) minDiff = diff;
  }
  const minS = Math.min(Math.max(-minDiff, 0), 1);
  return minS > maxDiff ? minS : maxDiff;
}

/** Two-sided two-sample KS test on unsorted samples (copied, then sorted). */
export function ksTwoSample(reference: ArrayLike<number>, current: ArrayLike<number>): KsResult {
  const a = Float64Array.from(reference).sort();
  const b = Float64Array.from(current).sort();
  return ksTwoSampleSorted(a, b);
}

export function ksTwoSampleSorted(a: Float64Array, b: Float64Array): KsResult {
  const n1 = a.length;
  const n2 = b.length;
  if (n1 === 0 || n2 === 0) throw new RangeError('ksTwoSample needs two non-empty samples');
  let statistic = ksStatisticSorted(a, b);
  if (Math.max(n1, n2) <= MAX_EXACT_N) {
    const exact = exactTwoSidedProbability(n1, n2, statistic);
    if (exact !== undefined) return { statistic: exact.statistic, pValue: exact.pValue, method: 'exact' };
  }
  const [m, n] = n1 >= n2 ? [n1, n2] : [n2, n1];
  const effectiveN = roundHalfEven((m * n) / (m + n));
  statistic = Math.min(Math.max(statistic, 0), 1);
  return { statistic, pValue: clip(kolmogorovSurvival(effectiveN, statistic)), method: 'asymptotic' };
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** SciPy's `_attempt_exact_2kssamp`: undefined when the computation fails (then asymptotic). */
function exactTwoSidedProbability(
  n1: number,
  n2: number,
  statistic: number,
): { statistic: number; pValue: number } | undefined {
  const g = gcd(n1, n2);
  const lcm = (n1 / g) * n2;
  const h = roundHalfEven(statistic * lcm);
  const rounded = h / lcm;
  if (h === 0) return { statistic: rounded, pValue: 1 };
  const probability =
    n1 === n2 ? probabilityOutsideSquare(n1, h) : probabilityOutsideInsideMethod(n1, n2, g, h);
  if (!(probability >= 0 && probability <= 1)) return undefined;
  return { statistic: rounded, pValue: probability };
}

/** Pr(D_{n,n} ≥ h/n), by a Horner-like form of the alternating binomial sum. */
function probabilityOutsideSquare(n: number, h: number): number {
  let p = 0;
  for (let k = Math.floor(n / h); k >= 0; k -= 1) {
    let p1 = 1;
    for (let j = 0; j < h; j += 1) p1 = ((n - k * h - j) * p1) / (n + k * h + j + 1);
    p = p1 * (1 - p);
  }
  return 2 * p;
}

/**
 * Proportion of lattice paths from (0,0) to (m,n) that leave the band |x/m − y/n| < h/lcm, computed
 * directly as 1 − p (Viehmann's recursion, as SciPy's `_compute_outer_prob_inside_method`).
 */
function probabilityOutsideInsideMethod(m0: number, n0: number, g: number, h: number): number {
  const [m, n] = m0 >= n0 ? [m0, n0] : [n0, m0];
  const mg = m / g;
  const ng = n / g;
  let minj = 0;
  let maxj = Math.min(Math.ceil(h / mg), n + 1);
  let curlen = maxj - minj;
  const lenA = Math.min(2 * maxj + 2, n + 1);
  const values = new Float64Array(lenA).fill(1);
  for (let index = minj; index < maxj; index += 1) values[index] = 0;
  for (let i = 1; i <= m; i += 1) {
    const lastminj = minj;
    const lastlen = curlen;
    minj = Math.min(Math.max(Math.floor((ng * i - h) / mg) + 1, 0), n);
    maxj = Math.min(Math.ceil((ng * i + h) / mg), n + 1);
    if (maxj <= minj) return 1;
    let value = minj === 0 ? 0 : 1;
    for (let jj = 0; jj < maxj - minj; jj += 1) {
      const j = jj + minj;
      value = (values[jj + minj - lastminj]! * i + value * j) / (i + j);
      values[jj] = value;
    }
    curlen = maxj - minj;
    if (lastlen > curlen) values.fill(1, maxj - minj, maxj - minj + (lastlen - curlen));
  }
  return values[maxj - minj - 1]!;
}

function clip(probability: number): number {
  return Math.min(Math.max(probability, 0), 1);
}

/**
 * Survival function of the two-sided one-sample KS statistic D_n (SciPy's `kstwo.sf`, i.e.
 * `_ksstats._kolmogn(n, x, cdf=False)`).
 */
export function kolmogorovSurvival(n: number, x: number): number {
  if (!Number.isInteger(n) || n <= 0) return Number.NaN;
  if (x >= 1) return 0;
  if (x <= 0) return 1;
  const t = n * x;
  if (t <= 1) {
    if (t <= 0.5) return 1;
    let cdf: number;
    if (n <= 140) {
      cdf = 1;
      for (let i = 1; i <= n; i += 1) cdf *= i * (1 / n) * (2 * t - 1);
    } else {
      cdf = Math.exp(logFactorialOverPower(n) + n * Math.log(2 * t - 1));
    }
    return clip(1 - cdf);
  }
  if (t >= n - 1) return clip(2 * (1 - x) ** n);
  if (x >= 0.5) return clip(2 * smirnovSurvival(n, x));
  const nxSquared = t * x;
  if (n <= 140) {
    if (nxSquared <= 0.754693) return clip(1 - durbinMatrixCdf(n, x));
    if (nxSquared <= 4) return clip(1 - pomeranzCdf(n, x));
    return clip(2 * smirnovSurvival(n, x));
  }
  if (nxSquared >= 370) return 0;
  if (nxSquared >= 2.2) return clip(2 * smirnovSurvival(n, x));
  const cdf = n <= 100_000 && n * x ** 1.5 <= 1.4 ? durbinMatrixCdf(n, x) : pelzGoodCdf(n, x);
  return clip(1 - cdf);
}

const STIRLING = [
  -0.029550653594771242, 0.00641025641025641, -0.0019175269175269176, 0.0008417508417508417,
  -0.0005952380952380953, 0.0007936507936507937, -0.002777777777777778, 0.08333333333333333,
];

/** ln(n! / n^n) by Stirling's series. */
function logFactorialOverPower(n: number): number {
  const inverse = 1 / n;
  const argument = inverse / n;
  let polynomial = 0;
  for (const coefficient of STIRLING) polynomial = polynomial * argument + coefficient;
  return Math.log(n) / 2 - n + Math.log(2 * Math.PI) / 2 + inverse * polynomial;
}

/** Pr(D_n ≤ d) by the Durbin matrix, Marsaglia–Tsang–Wang's scaled powers. */
function durbinMatrixCdf(n: number, d: number): number {
  if (d >= 1) return 1;
  const nd = n * d;
  if (nd <= 0.5) return 0;
  const k = Math.ceil(nd);
  const h = k - nd;
  const m = 2 * k - 1;
  const v = new Float64Array(m);
  const w = new Float64Array(m);
  let factorial = 1;
  for (let j = 1; j <= m; j += 1) {
    w[j - 1] = factorial;
    factorial /= j;
    v[j - 1] = (1 - h ** j) * factorial;
  }
  const tail = Math.max(2 * h - 1, 0) ** m - 2 * h ** m;
  v[m - 1] = (1 + tail) * factorial;
  let matrix: Float64Array = new Float64Array(m * m);
  for (let i = 1; i < m; i += 1) {
    for (let row = i - 1; row < m; row += 1) matrix[row * m + i] = w[row - (i - 1)]!;
  }
  for (let row = 0; row < m; row += 1) matrix[row * m] = v[row]!;
  for (let column = 0; column < m; column += 1) matrix[(m - 1) * m + column] = v[m - 1 - column]!;

  let power: Float64Array = new Float64Array(m * m);
  for (let i = 0; i < m; i += 1) power[i * m + i] = 1;
  let remaining = n;
  let exponent = 0;
  let matrixExponent = 0;
  const corner = (k - 1) * m + (k - 1);
  while (remaining > 0) {
    if (remaining % 2 === 1) {
      power = multiply(power, matrix, m);
      exponent += matrixExponent;
    }
    matrix = multiply(matrix, matrix, m);
    matrixExponent *= 2;
    if (Math.abs(matrix[corner]!) > P128) {
      for (let index = 0; index < matrix.length; index += 1) matrix[index]! /= P128;
      matrixExponent += E128;
    }
    remaining = Math.floor(remaining / 2);
  }
  let p = power[corner]!;
  for (let i = 1; i <= n; i += 1) {
    p = (i * p) / n;
    if (Math.abs(p) < M128) {
      p *= P128;
      exponent -= E128;
    }
  }
  if (exponent !== 0) p *= 2 ** exponent;
  return clip(p);
}

function multiply(left: Float64Array, right: Float64Array, size: number): Float64Array {
  const result = new Float64Array(size * size);
  for (let i = 0; i < size; i += 1) {
    for (let k = 0; k < size; k += 1) {
      const factor = left[i * size + k]!;
      if (factor === 0) continue;
      const rowOffset = k * size;
      const outOffset = i * size;
      for (let j = 0; j < size; j += 1) result[outOffset + j]! += factor * right[rowOffset + j]!;
    }
  }
  return result;
}

function pomeranzBounds(
  i: number,
  n: number,
  ll: number,
  ceilf: number,
  roundf: number,
): [start: number, end: number] {
  let j1: number;
  let j2: number;
  if (i === 0) {
    j1 = -ll - ceilf - 1;
    j2 = ll + ceilf - 1;
  } else {
    const half = Math.floor((i + 1) / 2);
    if ((i + 1) % 2 === 0) {
      if (half === n + 1) {
        j1 = n - ll - ceilf - 1;
        j2 = n + ll + ceilf - 1;
      } else {
        j1 = half - 1 - ll - roundf - 1;
        j2 = half + ll - 1 + ceilf - 1;
      }
    } else {
      j1 = half - 1 - ll - 1;
      j2 = half + ll + roundf - 1;
    }
  }
  return [Math.max(j1 + 2, 0), Math.min(j2, n)];
}

/** Pr(D_n ≤ x) by Pomeranz's recursion (n ≤ 140 only). */
function pomeranzCdf(n: number, x: number): number {
  const t = n * x;
  const ll = Math.floor(t);
  const f = t - ll;
  const g = Math.min(f, 1 - f);
  const ceilf = f > 0 ? 1 : 0;
  const roundf = f > 0.5 ? 1 : 0;
  const powers = 2 * (ll + 1);
  const gPower = new Float64Array(powers);
  const twoGPower = new Float64Array(powers);
  const oneMinusTwoGPower = new Float64Array(powers);
  gPower[0] = 1;
  twoGPower[0] = 1;
  oneMinusTwoGPower[0] = 1;
  for (let m = 1; m < powers; m += 1) {
    gPower[m] = (gPower[m - 1]! * (g / n)) / m;
    twoGPower[m] = (twoGPower[m - 1]! * ((2 * g) / n)) / m;
    oneMinusTwoGPower[m] = (oneMinusTwoGPower[m - 1]! * ((1 - 2 * g) / n)) / m;
  }
  let v0 = new Float64Array(powers);
  let v1 = new Float64Array(powers);
  v1[0] = 1;
  let v0Start = 0;
  let v1Start = 0;
  let exponent = 0;
  let [j1, j2] = pomeranzBounds(0, n, ll, ceilf, roundf);
  for (let i = 1; i < 2 * n + 2; i += 1) {
    const k1 = j1;
    [v0, v1] = [v1, v0];
    [v0Start, v1Start] = [v1Start, v0Start];
    v1.fill(0);
    [j1, j2] = pomeranzBounds(i, n, ll, ceilf, roundf);
    const weights = i === 1 || i === 2 * n + 1 ? gPower : i % 2 === 1 ? twoGPower : oneMinusTwoGPower;
    const length = j2 - k1 + 1;
    if (length > 0) {
      const offset = k1 - v0Start;
      const convStart = j1 - k1;
      const convLength = j2 - j1 + 1;
      // Entries convStart .. convStart+convLength of the full convolution of v0[offset..] with weights.
      let largest = 0;
      for (let out = 0; out < convLength; out += 1) {
        const index = convStart + out;
        let sum = 0;
        for (let a = Math.max(0, index - length + 1); a <= Math.min(index, length - 1); a += 1) {
          sum += v0[offset + a]! * weights[index - a]!;
        }
        v1[out] = sum;
        if (sum > largest) largest = sum;
      }
      if (largest > 0 && largest < M128) {
        for (let index = 0; index < v1.length; index += 1) v1[index]! *= P128;
        exponent -= E128;
      }
      v1Start = v0Start + j1 - k1;
    }
  }
  let answer = v1[n - v1Start]!;
  for (let m = 1; m <= n; m += 1) {
    if (Math.abs(answer) > P128) {
      answer *= M128;
      exponent += E128;
    }
    answer *= m;
  }
  if (exponent !== 0) answer *= 2 ** exponent;
  return clip(answer);
}

/** Pelz–Good asymptotic series for Pr(D_n ≤ x). */
function pelzGoodCdf(n: number, x: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const PI2 = Math.PI ** 2;
  const PI4 = Math.PI ** 4;
  const PI6 = Math.PI ** 6;
  const SQRT2PI = Math.sqrt(2 * Math.PI);
  const z = Math.sqrt(n) * x;
  const z2 = z ** 2;
  const z3 = z ** 3;
  const z4 = z ** 4;
  const z6 = z ** 6;
  const qlog = -PI2 / 8 / z2;
  if (qlog < MIN_LOG) return 0;
  let q = Math.exp(qlog);
  const k1a = -z2;
  const k1b = PI2 / 4;
  const k2a = 6 * z6 + 2 * z4;
  const k2b = ((2 * z4 - 5 * z2) * PI2) / 4;
  const k2c = (PI4 * (1 - 2 * z2)) / 16;
  const k3d = (PI6 * (5 - 30 * z2)) / 64;
  const k3c = (PI4 * (-60 * z2 + 212 * z4)) / 16;
  const k3b = (PI2 * (135 * z4 - 96 * z6)) / 4;
  const k3a = -30 * z6 - 90 * z ** 8;
  const terms = [0, 0, 0, 0];
  const maxk = Math.ceil((16 * z) / Math.PI);
  for (let k = maxk; k > 0; k -= 1) {
    const m = 2 * k - 1;
    const m2 = m ** 2;
    const m4 = m ** 4;
    const m6 = m ** 6;
    const qPower = q ** (8 * k);
    const coefficients = [1, k1a + k1b * m2, k2a + k2b * m2 + k2c * m4, k3a + k3b * m2 + k3c * m4 + k3d * m6];
    for (let index = 0; index < 4; index += 1) terms[index] = terms[index]! * qPower + coefficients[index]!;
  }
  const divisors = [z, 6 * z4, 72 * z ** 7, 6480 * z ** 10];
  for (let index = 0; index < 4; index += 1) terms[index] = (terms[index]! * q * SQRT2PI) / divisors[index]!;
  q = Math.exp(-PI2 / 2 / z2);
  let k2extra = 0;
  let k3extra = 0;
  const sqrt3z = Math.sqrt(3) * z;
  for (let k = maxk; k > 0; k -= 1) {
    const k2 = k ** 2;
    const qPower = q ** k2;
    k2extra += k2 * qPower;
    const kspi = Math.PI * k;
    k3extra += (sqrt3z + kspi) * (sqrt3z - kspi) * k2 * qPower;
  }
  terms[2] = terms[2]! + (k2extra * PI2 * SQRT2PI) / (-36 * z3);
  terms[3] = terms[3]! + (k3extra * PI2 * SQRT2PI) / (216 * z6);
  let sum = 0;
  for (let index = 0; index < 4; index += 1) sum += terms[index]! / n ** (index / 2);
  return sum;
}

/**
 * One-sided Smirnov survival Pr(D+_n ≥ x) (SciPy's `special.smirnov`) by the Birnbaum–Tingey sum,
 * summed in log space so that no term under- or overflows.
 */
export function smirnovSurvival(n: number, x: number): number {
  if (!(n > 0 && x >= 0 && x <= 1)) return Number.NaN;
  if (n === 1) return 1 - x;
  if (x === 0) return 1;
  if (x === 1) return 0;
  const nx = n * x;
  const nxFloor = Math.floor(nx);
  if (nxFloor === 0 || (nxFloor === 1 && nx === 1)) return 1 - x * (1 + x) ** (n - 1);
  if (-2 * n * x * x < -708.3964185322641) return 0;
  if (nxFloor >= n - 1) return (1 - x) ** n;
  if (n > 1_000_000) return Math.exp(-((6 * n * x + 1) ** 2) / 18 / n);
  // Terms past floor(n(1 − x)) have a non-positive base and vanish.
  const lastTerm = n - nxFloor;
  const logs = new Float64Array(lastTerm + 1);
  let logBinomial = 0;
  let largest = Number.NEGATIVE_INFINITY;
  for (let j = 0; j <= lastTerm; j += 1) {
    if (j > 0) logBinomial += Math.log((n - j + 1) / j);
    const low = (n - j) / n - x;
    const high = j / n + x;
    const logTerm =
      low <= 0 ? Number.NEGATIVE_INFINITY : logBinomial + (n - j) * Math.log(low) + (j - 1) * Math.log(high);
    logs[j] = logTerm;
    if (logTerm > largest) largest = logTerm;
  }
  let sum = 0;
  for (let j = 0; j <= lastTerm; j += 1) sum += Math.exp(logs[j]! - largest);
  return x * Math.exp(largest) * sum;
}
