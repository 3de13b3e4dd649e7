import { createHash } from 'node:crypto';
import { type ReferenceProfile } from '../../common/signature';
import { type DatasetSpec, type LabelledRow } from './dataset-spec';
import { SeededRandom } from './random';

export const REFERENCE_QUANTILE_LEVELS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];
export const REFERENCE_SAMPLE_SIZE = 5000;

/** Linear-interpolation quantile (NumPy's default) of an ascending array. */
export function quantile(sorted: readonly number[], level: number): number {
  if (sorted.length === 0) return Number.NaN;
  const position = (sorted.length - 1) * level;
  const below = Math.floor(position);
  const above = Math.min(sorted.length - 1, below + 1);
  const low = sorted[below] as number;
  return low + ((sorted[above] as number) - low) * (position - below);
}

export interface NumericSummary {
  min: number;
  max: number;
  mean: number;
  std: number;
  median: number;
  quantiles: number[];
}

export function summarizeNumeric(values: readonly number[]): NumericSummary {
  const sorted = [...values].sort((a, b) => a - b);
  const mean = values.reduce((sum, v) => sum + v, 0) / Math.max(1, values.length);
  const variance = values.reduce((sum, v) => sum + (v - mean) ** 2, 0) / Math.max(1, values.length);
  return {
    min: sorted[0] ?? 0,
    max: sorted[sorted.length - 1] ?? 0,
    mean,
    std: Math.sqrt(variance),
    median: quantile(sorted, 0.5),
    quantiles: REFERENCE_QUANTILE_LEVELS.map((level) => quantile(sorted, level)),
  };
}

export function frequencies(
  values: readonly string[],
  categories: readonly string[],
): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const category of categories) counts[category] = 0;
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  for (const key of Object.keys(counts)) counts[key] = (counts[key] as number) / Math.max(1, values.length);
  return counts;
}

/** A seeded sample of at most `size` indices, in ascending order. */
export function sampleIndices(count: number, size: number, seed: number): number[] {
  const indices = Array.from({ length: count }, (_, i) => i);
  if (count <= size) return indices;
  return new SeededRandom(seed)
    .shuffle(indices)
    .slice(0, size)
    .sort((a, b) => a - b);
}

/**
 * The reference monitoring compares production with: statistics of the training split, the
 * model's predictions on it and a bounded seeded sample (`scores[i]` belongs to `sample[i]`).
 */
export function buildReferenceProfile(input: {
  spec: DatasetSpec;
  rows: readonly LabelledRow[];
  predicted: readonly string[];
  /** Binary: positive-class score per row. */
  scores?: readonly number[];
  seed: number;
}): ReferenceProfile {
  const { spec, rows } = input;
  const numeric: ReferenceProfile['numeric'] = {};
  const categorical: ReferenceProfile['categorical'] = {};
  for (const feature of spec.features) {
    if (feature.type === 'numeric') {
      const { min, max, mean, std, quantiles } = summarizeNumeric(
        rows.map((r) => Number(r.features[feature.name])),
      );
      numeric[feature.name] = { min, max, mean, std, quantiles };
    } else {
      categorical[feature.name] = frequencies(
        rows.map((r) => String(r.features[feature.name])),
        feature.categories,
      );
    }
  }
  const sample = sampleIndices(rows.length, REFERENCE_SAMPLE_SIZE, input.seed);
  const profile: ReferenceProfile = {
    schemaVersion: 1,
    rowCount: rows.length,
    quantileLevels: REFERENCE_QUANTILE_LEVELS,
    numeric,
    categorical,
    classBalance: frequencies(
      rows.map((r) => r.label),
      spec.classes,
    ),
    predictionBalance: frequencies(input.predicted, spec.classes),
    sample: sample.map((i) => ({ ...(rows[i] as LabelledRow).features })),
  };
  if (input.scores) {
    const scores = input.scores;
    profile.scores = sample.map((i) => scores[i] as number);
  }
  return profile;
}

/** sha256 of the canonical data: one JSON array per row (features in spec order, then the label). */
export function datasetFingerprint(spec: DatasetSpec, rows: readonly LabelledRow[]): string {
  const hash = createHash('sha256');
  for (const row of rows) {
    hash.update(JSON.stringify([...spec.features.map((f) => row.features[f.name] ?? null), row.label]));
    hash.update('\n');
  }
  return hash.digest('hex');
}
