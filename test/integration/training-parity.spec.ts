/** @jest-environment ./test/support/onnxruntime.environment.js */
import * as ort from 'onnxruntime-node';
import { type Row } from '../../src/training/domain/dataset-spec';
import { type Algorithm, type TrainingResult, trainModel } from '../../src/training/training.service';

/** Feeds rows to the exported graph the way serving does: one [N,1] tensor per feature. */
export async function runOnnx(
  result: TrainingResult,
  rows: readonly Row[],
): Promise<{ labels: string[]; probabilities: number[][] }> {
  const session = await ort.InferenceSession.create(result.onnx, {
    intraOpNumThreads: 1,
    executionMode: 'sequential',
  });
  try {
    const feeds: Record<string, ort.Tensor> = {};
    for (const feature of result.spec.features) {
      feeds[feature.name] =
        feature.type === 'numeric'
          ? new ort.Tensor(
              'float32',
              Float32Array.from(rows, (r) => Number(r[feature.name])),
              [rows.length, 1],
            )
          : new ort.Tensor(
              'string',
              rows.map((r) => String(r[feature.name])),
              [rows.length, 1],
            );
    }
    const output = await session.run(feeds);
    const classCount = result.signature.classes.length;
    const flat = output.probabilities!.data as Float32Array;
    expect(output.probabilities!.dims).toEqual([rows.length, classCount]);
    expect(output.label!.dims).toEqual([rows.length]);
    return {
      labels: [...(output.label!.data as string[])],
      probabilities: Array.from({ length: rows.length }, (_, i) =>
        Array.from(flat.subarray(i * classCount, (i + 1) * classCount)),
      ),
    };
  } finally {
    await session.release();
  }
}

const cases: [string, Algorithm][] = [
  ['iris', 'logreg'],
  ['iris', 'gbdt'],
  ['credit', 'logreg'],
  ['credit', 'gbdt'],
];

describe('ONNX export parity with the TypeScript models (test split, onnxruntime-node, 1 thread)', () => {
  it.each(cases)(
    '%s %s: probabilities within 1e-5, identical labels',
    async (dataset, algorithm) => {
      const result = await trainModel({ dataset, algorithm, seed: 42 });
      const onnx = await runOnnx(result, result.test.rows);

      let maxDifference = 0;
      result.test.probabilities.forEach((expected, i) => {
        expected.forEach((p, k) => {
          maxDifference = Math.max(maxDifference, Math.abs(p - (onnx.probabilities[i]![k] as number)));
        });
      });
      expect(result.test.rows.length).toBeGreaterThan(0);
      expect(maxDifference).toBeLessThan(1e-5);
      expect(onnx.labels).toEqual(result.test.predicted);
      // Every class is predicted somewhere, so the label mapping is really exercised.
      expect(new Set(onnx.labels)).toEqual(new Set(result.signature.classes));
    },
    120_000,
  );
});
