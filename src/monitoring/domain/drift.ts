import { ksTwoSampleSorted } from './kolmogorov-smirnov';
import {
  chiSquareGoodnessOfFit,
  histogramCounts,
  jensenShannonDistance,
  normedWasserstein,
  populationStabilityIndex,
  sturgesEdgesFromRange,
  zTestTwoProportions,
} from './stat-tests';

/**
 * Per-feature and dataset drift with Evidently's default method choice, so that our verdicts compare
 * with an Evidently report on the same data:
 * - reference ≤ 1000 rows: numeric with > 5 distinct values → KS (drift if p ≤ 0.05); otherwise
 *   chi-square against the reference frequencies (p < 0.05), or the two-proportion Z-test when there
 *   are at most two distinct values (p < 0.05);
 * - reference > 1000 rows: numeric with > 5 distinct values → Wasserstein / std(reference) ≥ 0.1;
 *   otherwise Jensen–Shannon distance (natural log) ≥ 0.1.
 * Distinct values are counted over reference and current together, as Evidently does.
 * PSI is reported for every feature beside the verdict (0.1 moderate, 0.2 significant).
 */

export type DriftMethod = 'ks' | 'chisquare' | 'z' | 'wasserstein' | 'jensenshannon';
export type PsiLevel = 'none' | 'moderate' | 'significant';

export const DRIFT_METHODS: Record<
  DriftMethod,
  { label: string; threshold: number; kind: 'p_value' | 'distance' }
> = {
  ks: { label: 'K-S p-value', threshold: 0.05, kind: 'p_value' },
  chisquare: { label: 'chi-square p-value', threshold: 0.05, kind: 'p_value' },
  z: { label: 'Z-test p-value', threshold: 0.05, kind: 'p_value' },
  wasserstein: { label: 'Wasserstein distance (normed)', threshold: 0.1, kind: 'distance' },
  jensenshannon: { label: 'Jensen-Shannon distance', threshold: 0.1, kind: 'distance' },
};

export const PSI_MODERATE = 0.1;
export const PSI_SIGNIFICANT = 0.2;
/** Evidently switches from statistical tests to distances above this many reference rows. */
export const SMALL_REFERENCE_ROWS = 1000;
const FEW_VALUES = 5;
/** Evidently bins a numeric column when its reference has more distinct values than this. */
const BINNED_ABOVE_DISTINCT = 20;

/** Reference side of a numeric feature: a raw sample, and how many rows it stands for. */
export interface NumericReference {
  kind: 'numeric';
  /** Sorted ascending. */
  sample: Float64Array;
  rowCount: number;
}

/** Reference side of a categorical feature: counts (or shares, scaled by `rowCount`). */
export interface CategoricalReference {
  kind: 'categorical';
  frequencies: Record<string, number>;
  rowCount: number;
}

export type FeatureReference = NumericReference | CategoricalReference;

/** Current window: sorted numbers for a numeric feature, values for a categorical one. */
export type FeatureCurrent =
  { kind: 'numeric'; values: Float64Array } | { kind: 'categorical'; values: string[] };

/** Distribution of one feature for the report: shares per bin (numeric) or per category. */
export interface DistributionComparison {
  buckets: { label: string; low?: number; high?: number; reference: number; current: number }[];
}

export interface FeatureDrift {
  feature: string;
  kind: 'numeric' | 'categorical';
  method: DriftMethod;
  /** A p-value (ks, chisquare, z) or a distance (wasserstein, jensenshannon). */
  score: number;
  threshold: number;
  drifted: boolean;
  psi: number;
  psiLevel: PsiLevel;
  referenceSize: number;
  currentSize: number;
  distribution: DistributionComparison;
}

export interface DatasetDrift {
  features: FeatureDrift[];
  driftedCount: number;
  driftShare: number;
  shareThreshold: number;
  datasetDrift: boolean;
}

/** Returns the method Evidently would choose. */
export function chooseDriftMethod(
  kind: 'numeric' | 'categorical',
  referenceRowCount: number,
  distinctValues: number,
): DriftMethod {
  const fewValues = kind === 'categorical' || distinctValues <= FEW_VALUES;
  if (referenceRowCount <= SMALL_REFERENCE_ROWS) {
    if (!fewValues) return 'ks';
    return distinctValues > 2 ? 'chisquare' : 'z';
  }
  return fewValues ? 'jensenshannon' : 'wasserstein';
}

export function isDrifted(
  method: DriftMethod,
  score: number,
  threshold = DRIFT_METHODS[method].threshold,
): boolean {
  if (Number.isNaN(score)) return false;
  switch (method) {
    case 'ks':
      return score <= threshold;
    case 'chisquare':
    case 'z':
      return score < threshold;
    case 'wasserstein':
    case 'jensenshannon':
      return score >= threshold;
  }
}

export function psiLevel(psi: number): PsiLevel {
  if (psi >= PSI_SIGNIFICANT) return 'significant';
  if (psi >= PSI_MODERATE) return 'moderate';
  return 'none';
}

/** Distinct values of a sorted array, counting at most `limit + 1`. */
function distinctSorted(values: Float64Array, limit = Number.POSITIVE_INFINITY): number {
  let count = 0;
  for (let index = 0; index < values.length && count <= limit; index += 1) {
    if (index === 0 || values[index] !== values[index - 1]) count += 1;
  }
  return count;
}

/** Distinct values over two sorted arrays together. */
function distinctMerged(a: Float64Array, b: Float64Array, limit: number): number {
  let i = 0;
  let j = 0;
  let count = 0;
  while ((i < a.length || j < b.length) && count <= limit) {
    const value = j >= b.length || (i < a.length && a[i]! <= b[j]!) ? a[i]! : b[j]!;
    count += 1;
    while (i < a.length && a[i] === value) i += 1;
    while (j < b.length && b[j] === value) j += 1;
  }
  return count;
}

function countValues<T extends string | number>(values: ArrayLike<T>): Map<T, number> {
  const counts = new Map<T, number>();
  for (let index = 0; index < values.length; index += 1) {
    const value = values[index]!;
    counts.set(value, (counts.get(value) ?? 0) + 1);
  }
  return counts;
}

interface DiscreteSide {
  counts: Map<string, number>;
  total: number;
}

/** Drift of one feature, reference against current. Callers skip empty windows. */
export function featureDrift(
  name: string,
  reference: FeatureReference,
  current: FeatureCurrent,
): FeatureDrift {
  if (reference.kind === 'numeric' && current.kind === 'numeric')
    return numericDrift(name, reference, current.values);
  if (reference.kind === 'categorical' && current.kind === 'categorical') {
    const referenceSide = categoricalReferenceSide(reference);
    return discreteDrift(name, 'categorical', referenceSide, reference.rowCount, {
      counts: countValues(current.values),
      total: current.values.length,
    });
  }
  throw new TypeError(`Feature "${name}": reference is ${reference.kind}, current is ${current.kind}`);
}

function categoricalReferenceSide(reference: CategoricalReference): DiscreteSide {
  const entries = Object.entries(reference.frequencies).filter(([, value]) => value > 0);
  const sum = entries.reduce((total, [, value]) => total + value, 0);
  const counts = new Map<string, number>();
  for (const [category, value] of entries) counts.set(category, (value / sum) * reference.rowCount);
  return { counts, total: reference.rowCount };
}

function numericDrift(name: string, reference: NumericReference, current: Float64Array): FeatureDrift {
  const distinct = distinctMerged(reference.sample, current, FEW_VALUES);
  const method = chooseDriftMethod('numeric', reference.rowCount, distinct);
  if (method !== 'ks' && method !== 'wasserstein') {
    // Few distinct numbers: Evidently treats them as categories.
    const toSide = (values: Float64Array): DiscreteSide => {
      const counts = new Map<string, number>();
      for (const [value, count] of countValues(values)) counts.set(String(value), count);
      return { counts, total: values.length };
    };
    return discreteDrift(name, 'numeric', toSide(reference.sample), reference.rowCount, toSide(current));
  }
  const score =
    method === 'ks'
      ? ksTwoSampleSorted(reference.sample, current).pValue
      : normedWasserstein(reference.sample, current);
  const { psi, distribution } = numericDistribution(reference.sample, current);
  return {
    feature: name,
    kind: 'numeric',
    method,
    score,
    threshold: DRIFT_METHODS[method].threshold,
    drifted: isDrifted(method, score),
    psi,
    psiLevel: psiLevel(psi),
    referenceSize: reference.sample.length,
    currentSize: current.length,
    distribution,
  };
}

/** Evidently's `get_binned_data` for a numeric column: Sturges bins over both samples, or values. */
function numericDistribution(
  reference: Float64Array,
  current: Float64Array,
): { psi: number; distribution: DistributionComparison } {
  if (distinctSorted(reference, BINNED_ABOVE_DISTINCT) <= BINNED_ABOVE_DISTINCT) {
    const keys = [...new Set([...reference, ...current])].sort((a, b) => a - b);
    const referenceCounts = countValues(reference);
    const currentCounts = countValues(current);
    const referenceShares = keys.map((key) => (referenceCounts.get(key) ?? 0) / reference.length);
    const currentShares = keys.map((key) => (currentCounts.get(key) ?? 0) / current.length);
    return {
      psi: populationStabilityIndex(referenceShares, currentShares),
      distribution: {
        buckets: keys.map((key, index) => ({
          label: String(key),
          reference: referenceShares[index]!,
          current: currentShares[index]!,
        })),
      },
    };
  }
  const min = Math.min(reference[0]!, current[0]!);
  const max = Math.max(reference[reference.length - 1]!, current[current.length - 1]!);
  const edges = sturgesEdgesFromRange(min, max, reference.length + current.length);
  const referenceShares = Array.from(histogramCounts(reference, edges), (count) => count / reference.length);
  const currentShares = Array.from(histogramCounts(current, edges), (count) => count / current.length);
  return {
    psi: populationStabilityIndex(referenceShares, currentShares),
    distribution: {
      buckets: referenceShares.map((share, index) => ({
        label: `${formatEdge(edges[index]!)}–${formatEdge(edges[index + 1]!)}`,
        low: edges[index]!,
        high: edges[index + 1]!,
        reference: share,
        current: currentShares[index]!,
      })),
    },
  };
}

function formatEdge(value: number): string {
  return Number(value.toPrecision(4)).toString();
}

function discreteDrift(
  name: string,
  kind: 'numeric' | 'categorical',
  reference: DiscreteSide,
  referenceRowCount: number,
  current: DiscreteSide,
): FeatureDrift {
  const keys = [...new Set([...reference.counts.keys(), ...current.counts.keys()])].sort(
    kind === 'numeric' ? (a, b) => Number(a) - Number(b) : undefined,
  );
  const method = chooseDriftMethod(kind, referenceRowCount, keys.length);
  const referenceCounts = keys.map((key) => reference.counts.get(key) ?? 0);
  const currentCounts = keys.map((key) => current.counts.get(key) ?? 0);
  let score: number;
  switch (method) {
    case 'z': {
      if (keys.length < 2) {
        score = 1;
      } else {
        // Evidently codes the first key (sorted) as 0 and every other value as 1.
        score = zTestTwoProportions(
          reference.total - referenceCounts[0]!,
          reference.total,
          current.total - currentCounts[0]!,
          current.total,
        ).pValue;
      }
      break;
    }
    case 'chisquare': {
      const scale = current.total / reference.total;
      score = chiSquareGoodnessOfFit(
        currentCounts,
        referenceCounts.map((count) => count * scale),
      ).pValue;
      break;
    }
    case 'jensenshannon':
    case 'ks':
    case 'wasserstein':
      score = jensenShannonDistance(referenceCounts, currentCounts);
      break;
  }
  const referenceShares = referenceCounts.map((count) => count / reference.total);
  const currentShares = currentCounts.map((count) => count / current.total);
  const psi = populationStabilityIndex(referenceShares, currentShares);
  return {
    feature: name,
    kind,
    method,
    score,
    threshold: DRIFT_METHODS[method].threshold,
    drifted: isDrifted(method, score),
    psi,
    psiLevel: psiLevel(psi),
    referenceSize: reference.total,
    currentSize: current.total,
    distribution: {
      buckets: keys.map((key, index) => ({
        label: key,
        reference: referenceShares[index]!,
        current: currentShares[index]!,
      })),
    },
  };
}

/** Dataset drift: the share of drifted features reaches `shareThreshold` (Evidently: ≥). */
export function datasetDrift(features: FeatureDrift[], shareThreshold: number): DatasetDrift {
  const driftedCount = features.filter((feature) => feature.drifted).length;
  const driftShare = features.length === 0 ? 0 : driftedCount / features.length;
  return {
    features,
    driftedCount,
    driftShare,
    shareThreshold,
    datasetDrift: features.length > 0 && driftShare >= shareThreshold,
  };
}
