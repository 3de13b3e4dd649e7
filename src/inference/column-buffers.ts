import type { FeatureSpec } from '../common/signature';

/** One column per feature, in signature order: float32 for numeric features, strings for categories. */
export type ColumnBuffer = Float32Array | string[];

/** Preallocated input columns for `capacity` rows; reused from batch to batch. */
export function allocateColumns(features: readonly FeatureSpec[], capacity: number): ColumnBuffer[] {
  return features.map((feature) =>
    feature.type === 'numeric' ? new Float32Array(capacity) : new Array<string>(capacity).fill(''),
  );
}
