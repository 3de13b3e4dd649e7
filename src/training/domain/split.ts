import { SeededRandom } from './random';

export interface SplitIndices {
  train: number[];
  validation: number[];
  test: number[];
}

/**
 * A stratified, seeded three-way split: within each class the row indices are shuffled, the first
 * `testRatio` go to test, the next `validationRatio` to validation, the rest to train. Each part keeps
 * the original row order, so the result depends only on the data and the seed.
 */
export function stratifiedSplit(
  labels: readonly number[],
  seed: number,
  testRatio = 0.2,
  validationRatio = 0.2,
): SplitIndices {
  const random = new SeededRandom(seed);
  const byClass = new Map<number, number[]>();
  labels.forEach((label, index) => {
    const list = byClass.get(label) ?? [];
    list.push(index);
    byClass.set(label, list);
  });
  const split: SplitIndices = { train: [], validation: [], test: [] };
  for (const label of [...byClass.keys()].sort((a, b) => a - b)) {
    const indices = random.shuffle([...(byClass.get(label) ?? [])]);
    const testCount = Math.round(indices.length * testRatio);
    const validationCount = Math.round(indices.length * validationRatio);
    split.test.push(...indices.slice(0, testCount));
    split.validation.push(...indices.slice(testCount, testCount + validationCount));
    split.train.push(...indices.slice(testCount + validationCount));
  }
  const ascending = (a: number, b: number): number => a - b;
  split.train.sort(ascending);
  split.validation.sort(ascending);
  split.test.sort(ascending);
  return split;
}
