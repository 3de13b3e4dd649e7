import { type ColumnSpec, type Row } from './dataset-spec';

/**
 * How rows become the numeric design matrix both model families consume: numeric features as
 * float32 values (the ONNX inputs are float32, so training sees exactly what inference will),
 * categorical features one-hot in the declared category order (an unknown category is all zeros,
 * as the ONNX OneHotEncoder with `zeros=1` does).
 */
export type EncodedColumn =
  { feature: string; kind: 'numeric' } | { feature: string; kind: 'one_hot'; category: string };

export function columnLayout(features: readonly ColumnSpec[]): EncodedColumn[] {
  return features.flatMap((feature): EncodedColumn[] =>
    feature.type === 'numeric'
      ? [{ feature: feature.name, kind: 'numeric' }]
      : feature.categories.map((category) => ({ feature: feature.name, kind: 'one_hot' as const, category })),
  );
}

/** A dense row-major matrix. */
export interface Matrix {
  rows: number;
  cols: number;
  data: Float64Array;
}

export function encodeRows(features: readonly ColumnSpec[], rows: readonly Row[]): Matrix {
  const layout = columnLayout(features);
  const cols = layout.length;
  const data = new Float64Array(rows.length * cols);
  rows.forEach((row, i) => {
    let j = 0;
    for (const feature of features) {
      const value = row[feature.name];
      if (feature.type === 'numeric') {
        data[i * cols + j] = Math.fround(Number(value));
        j += 1;
      } else {
        const index = feature.categories.indexOf(String(value));
        if (index >= 0) data[i * cols + j + index] = 1;
        j += feature.categories.length;
      }
    }
  });
  return { rows: rows.length, cols, data };
}

export function columnName(column: EncodedColumn): string {
  return column.kind === 'numeric' ? column.feature : `${column.feature}=${column.category}`;
}
