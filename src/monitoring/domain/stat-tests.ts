import { chiSquareSurvival, normalCdf } from './special-functions';

/**
 * Drift statistics, each matching the SciPy / Evidently function named in its comment (same inputs,
 * same numbers within floating-point noise; see `stat-tests.spec.ts` and the SciPy fixture).
 */

export interface TestResult {
  statistic: number;
  pValue: number;
}

/** Sum with Neumaier compensation: long sums of small terms stay within a few ulps. */
export function preciseSum(values: ArrayLike<number>): number {
  let sum = 0;
  let compensation = 0;
  for (let index = 0; index < values.length; index += 1) {
    const value = values[index]!;
    const total = sum + value;
    compensation += Math.abs(sum) >= Math.abs(value) ? sum - total + value : value - total + sum;
    sum = total;
  }
  // An infinite term (a category never expected) makes the compensation NaN: the sum is infinite.
  return Number.isFinite(sum) ? sum + compensation : sum;
}

/**
 * Pearson's goodness-of-fit test, as `scipy.stats.chisquare(observed, expected)`: k − 1 degrees of
 * freedom. An expected count of 0 with an observed count > 0 gives an infinite statistic (p = 0).
 */
export function chiSquareGoodnessOfFit(observed: readonly number[], expected: readonly number[]): TestResult {
  if (observed.length !== expected.length || observed.length < 2)
    throw new RangeError('chiSquareGoodnessOfFit needs two equal-length arrays of at least 2 counts');
  const terms = observed.map((count, index) => {
    const expectation = expected[index]!;
    const difference = count - expectation;
    if (expectation === 0) return difference === 0 ? Number.NaN : Number.POSITIVE_INFINITY;
    return (difference * difference) / expectation;
  });
  const statistic = preciseSum(terms);
  return { statistic, pValue: chiSquareSurvival(statistic, observed.length - 1) };
}

/**
 * Chi-square test of independence on a contingency table, as `scipy.stats.chi2_contingency(table)`
 * (Yates' continuity correction when there is one degree of freedom).
 */
export function chiSquareContingency(
  table: readonly (readonly number[])[],
  correction = true,
): TestResult & { degreesOfFreedom: number; expected: number[][] } {
  const rows = table.length;
  const columns = table[0]?.length ?? 0;
  if (rows === 0 || columns === 0 || table.some((row) => row.length !== columns))
    throw new RangeError('chiSquareContingency needs a non-empty rectangular table');
  if (table.some((row) => row.some((count) => count < 0)))
    throw new RangeError('chiSquareContingency needs non-negative counts');
  const rowSums = table.map((row) => preciseSum(row));
  const columnSums = Array.from({ length: columns }, (_, column) =>
    preciseSum(table.map((row) => row[column]!)),
  );
  const total = preciseSum(rowSums);
  const expected = rowSums.map((rowSum) => columnSums.map((columnSum) => (rowSum * columnSum) / total));
  if (expected.some((row) => row.some((value) => value === 0)))
    throw new RangeError('chiSquareContingency: a row or column sums to zero');
  const degreesOfFreedom = rows * columns - rows - columns + 1;
  if (degreesOfFreedom === 0) return { statistic: 0, pValue: 1, degreesOfFreedom, expected };
  const terms: number[] = [];
  for (let row = 0; row < rows; row += 1) {
    for (let column = 0; column < columns; column += 1) {
      const expectation = expected[row]![column]!;
      let count = table[row]![column]!;
      if (degreesOfFreedom === 1 && correction) {
        const difference = expectation - count;
        count += Math.sign(difference) * Math.min(0.5, Math.abs(difference));
      }
      terms.push((count - expectation) ** 2 / expectation);
    }
  }
  const statistic = preciseSum(terms);
  return { statistic, pValue: chiSquareSurvival(statistic, degreesOfFreedom), degreesOfFreedom, expected };
}

/**
 * Two-proportion Z-test (pooled), as Evidently's `z` stattest: `2 * (1 - norm.cdf(|z|))`.
 * Successes / totals for the reference and the current sample.
 */
export function zTestTwoProportions(
  referenceSuccesses: number,
  referenceTotal: number,
  currentSuccesses: number,
  currentTotal: number,
): TestResult {
  const p1 = referenceSuccesses / referenceTotal;
  const p2 = currentSuccesses / currentTotal;
  const pooled = (p1 * referenceTotal + p2 * currentTotal) / (referenceTotal + currentTotal);
  const statistic = (p1 - p2) / Math.sqrt(pooled * (1 - pooled) * (1 / referenceTotal + 1 / currentTotal));
  return { statistic, pValue: 2 * (1 - normalCdf(Math.abs(statistic))) };
}

/** First Wasserstein distance between two empirical distributions (`scipy.stats.wasserstein_distance`). */
export function wassersteinDistance(u: ArrayLike<number>, v: ArrayLike<number>): number {
  return wassersteinDistanceSorted(Float64Array.from(u).sort(), Float64Array.from(v).sort());
}

/** Same, on samples already sorted ascending: one merge pass, O(n + m). */
export function wassersteinDistanceSorted(u: Float64Array, v: Float64Array): number {
  const nu = u.length;
  const nv = v.length;
  if (nu === 0 || nv === 0) throw new RangeError('wassersteinDistance needs two non-empty samples');
  let i = 0;
  let j = 0;
  let sum = 0;
  let compensation = 0;
  let value = Math.min(u[0]!, v[0]!);
  while (i < nu || j < nv) {
    while (i < nu && u[i]! <= value) i += 1;
    while (j < nv && v[j]! <= value) j += 1;
    if (i >= nu && j >= nv) break;
    const next = i >= nu ? v[j]! : j >= nv ? u[i]! : Math.min(u[i]!, v[j]!);
    const term = Math.abs(i / nu - j / nv) * (next - value);
    const total = sum + term;
    compensation += Math.abs(sum) >= Math.abs(term) ? sum - total + term : term - total + sum;
    sum = total;
    value = next;
  }
  return sum + compensation;
}

/** Population standard deviation (NumPy's `np.std`, ddof = 0), two-pass. */
export function populationStd(values: ArrayLike<number>): number {
  const n = values.length;
  if (n === 0) return Number.NaN;
  const mean = preciseSum(values) / n;
  const squares = new Float64Array(n);
  for (let index = 0; index < n; index += 1) squares[index] = (values[index]! - mean) ** 2;
  return Math.sqrt(preciseSum(squares) / n);
}

/**
 * Evidently's `wasserstein` stattest: W1(reference, current) / max(std(reference), 0.001).
 */
export function normedWasserstein(reference: Float64Array, current: Float64Array): number {
  return wassersteinDistanceSorted(reference, current) / Math.max(populationStd(reference), 0.001);
}

/**
 * Jensen–Shannon distance between two (unnormalized) probability vectors, as
 * `scipy.spatial.distance.jensenshannon(p, q, base)`; natural log unless a base is given.
 */
export function jensenShannonDistance(p: readonly number[], q: readonly number[], base?: number): number {
  if (p.length !== q.length) throw new RangeError('jensenShannonDistance needs equal-length vectors');
  const pSum = preciseSum(p);
  const qSum = preciseSum(q);
  const left: number[] = [];
  const right: number[] = [];
  for (let index = 0; index < p.length; index += 1) {
    const pi = p[index]! / pSum;
    const qi = q[index]! / qSum;
    const mi = (pi + qi) / 2;
    left.push(relativeEntropy(pi, mi));
    right.push(relativeEntropy(qi, mi));
  }
  let divergence = preciseSum(left) + preciseSum(right);
  if (base !== undefined) divergence /= Math.log(base);
  return Math.sqrt(divergence / 2);
}

/** `scipy.special.rel_entr`. */
function relativeEntropy(x: number, y: number): number {
  if (x > 0 && y > 0) return x * Math.log(x / y);
  if (x === 0 && y >= 0) return 0;
  return Number.POSITIVE_INFINITY;
}

/**
 * Population stability index on bucket shares, as Evidently's `psi`: Σ (ref − cur) · ln(ref / cur),
 * after Evidently's zero filling (see `fillZeroShares`).
 */
export function populationStabilityIndex(referenceShares: number[], currentShares: number[]): number {
  const reference = fillZeroShares(referenceShares);
  const current = fillZeroShares(currentShares);
  return preciseSum(
    reference.map((share, index) => (share - current[index]!) * Math.log(share / current[index]!)),
  );
}

/**
 * Evidently's `feel_zeroes`: an empty bucket gets 0.0001, or a millionth of the smallest non-empty
 * share when that is ≤ 0.0001, so the log ratio stays finite.
 */
export function fillZeroShares(shares: readonly number[]): number[] {
  const positive = shares.filter((share) => share !== 0);
  if (positive.length === 0) return [...shares];
  const smallest = Math.min(...positive);
  const filler = smallest <= 0.0001 ? smallest / 10 ** 6 : 0.0001;
  return shares.map((share) => (share === 0 ? filler : share));
}

/**
 * Bin edges as `np.histogram_bin_edges(values, bins='sturges')`: ⌈ptp / (ptp / (log2 n + 1))⌉ equal
 * bins over [min, max] (±0.5 when all values are equal), edges from `np.linspace`.
 */
export function sturgesEdges(values: ArrayLike<number>): Float64Array {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let index = 0; index < values.length; index += 1) {
    const value = values[index]!;
    if (value < min) min = value;
    if (value > max) max = value;
  }
  return sturgesEdgesFromRange(min, max, values.length);
}

export function sturgesEdgesFromRange(min: number, max: number, count: number): Float64Array {
  const range = max - min;
  const width = range / (Math.log2(count) + 1);
  let first = min;
  let last = max;
  if (first === last) {
    first -= 0.5;
    last += 0.5;
  }
  const binCount = width ? Math.ceil((last - first) / width) : 1;
  const step = (last - first) / binCount;
  const edges = new Float64Array(binCount + 1);
  for (let index = 0; index < binCount; index += 1) edges[index] = index * step + first;
  edges[binCount] = last;
  return edges;
}

/**
 * Counts per bin as `np.histogram(values, edges)`: [e_i, e_i+1), the last bin closed; values outside
 * the edges are not counted.
 */
export function histogramCounts(values: ArrayLike<number>, edges: Float64Array): Float64Array {
  const binCount = edges.length - 1;
  const counts = new Float64Array(binCount);
  const first = edges[0]!;
  const last = edges[binCount]!;
  for (let index = 0; index < values.length; index += 1) {
    const value = values[index]!;
    if (!(value >= first && value <= last)) continue;
    // Binary search for the last edge <= value.
    let low = 0;
    let high = binCount;
    while (high - low > 1) {
      const middle = (low + high) >>> 1;
      if (edges[middle]! <= value) low = middle;
      else high = middle;
    }
    counts[low]! += 1;
  }
  return counts;
}
