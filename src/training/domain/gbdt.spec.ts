import { type Matrix } from './encoding';
import { GBDT_DEFAULTS, fitGbdt, predictGbdt } from './gbdt';

const matrix = (rows: number[][]): Matrix => ({
  rows: rows.length,
  cols: rows[0]!.length,
  data: Float64Array.from(rows.flat()),
});

/**
 * XOR on two binary columns: needs two levels of splits. Corners have unequal counts (80, 40, 20,
 * 60), otherwise no first split has any gain and no greedy tree learner can start.
 */
const corners: [number[], number][] = [
  [[0, 0], 80],
  [[0, 1], 40],
  [[1, 0], 20],
  [[1, 1], 60],
];
const xorRows = corners.flatMap(([corner, count]) => Array.from({ length: count }, () => corner));
const xorLabels = xorRows.map(([a, b]) => (a === b ? 0 : 1));
const params = { ...GBDT_DEFAULTS, rounds: 60, minSamplesLeaf: 5, earlyStoppingRounds: 0 };

describe('fitGbdt', () => {
  it('learns XOR (binary, logistic loss)', () => {
    const { model } = fitGbdt({ matrix: matrix(xorRows), labels: xorLabels }, 2, { ...params, maxDepth: 2 });
    const p = predictGbdt(
      model,
      matrix([
        [0, 0],
        [0, 1],
        [1, 0],
        [1, 1],
      ]),
    );
    expect(p.map((row) => Math.round(row[1]!))).toEqual([0, 1, 1, 0]);
    p.forEach((row) => expect(row[0]! + row[1]!).toBeCloseTo(1, 12));
    expect(model.baseMargins).toEqual([Math.fround(Math.log(60 / 140))]); // the prior log-odds
  });

  it('cannot learn XOR with stumps (depth 1): additive model only', () => {
    const { model } = fitGbdt({ matrix: matrix(xorRows), labels: xorLabels }, 2, { ...params, maxDepth: 1 });
    const p = predictGbdt(
      model,
      matrix([
        [0, 0],
        [0, 1],
        [1, 0],
        [1, 1],
      ]),
    );
    expect(p.map((row) => Math.round(row[1]!))).not.toEqual([0, 1, 1, 0]);
  });

  it('multiclass softmax: one tree per class per round, probabilities sum to 1', () => {
    const rows = Array.from({ length: 150 }, (_, i) => [i % 3 === 0 ? 1 : 2 + (i % 3), (i * 7) % 5]);
    const labels = rows.map((_, i) => i % 3);
    const { model } = fitGbdt({ matrix: matrix(rows), labels }, 3, { ...params, rounds: 10 });
    expect(model.trees).toHaveLength(30);
    expect(model.trees.slice(0, 3).map((t) => t.target)).toEqual([0, 1, 2]);
    const p = predictGbdt(model, matrix(rows.slice(0, 3)));
    p.forEach((row, i) => {
      expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
      expect(row.indexOf(Math.max(...row))).toBe(labels[i]);
    });
  });

  it('splits at float32 data values, with x <= threshold going left', () => {
    const rows = Array.from({ length: 100 }, (_, i) => [Math.fround(i / 10 + 0.1)]);
    const labels = rows.map(([x]) => (x! > 5.05 ? 1 : 0));
    const { model } = fitGbdt({ matrix: matrix(rows), labels }, 2, { ...params, rounds: 1, maxDepth: 1 });
    const [tree] = model.trees;
    expect(tree!.feature[0]).toBe(0);
    expect(tree!.threshold[0]).toBe(Math.fround(49 / 10 + 0.1)); // the largest x of class 0
    expect(Math.fround(tree!.threshold[0]!)).toBe(tree!.threshold[0]);
  });

  it('respects minSamplesLeaf', () => {
    const rows = Array.from({ length: 40 }, (_, i) => [i]);
    const labels = rows.map(([x]) => (x! < 3 ? 1 : 0));
    const { model } = fitGbdt({ matrix: matrix(rows), labels }, 2, {
      ...params,
      rounds: 1,
      maxDepth: 3,
      minSamplesLeaf: 10,
    });
    // every leaf must hold ≥ 10 of the 40 rows: at most 4 leaves
    const leaves = model.trees[0]!.feature.filter((f) => f < 0).length;
    expect(leaves).toBeLessThanOrEqual(4);
  });

  it('early stopping keeps the rounds up to the best validation loss', () => {
    // Pure noise: validation loss only gets worse after the first few rounds.
    const rows = Array.from({ length: 400 }, (_, i) => [(i * 37) % 101, (i * 53) % 97]);
    const labels = rows.map((_, i) => ((i * 7919) % 13) % 2);
    const validationRows = Array.from({ length: 200 }, (_, i) => [(i * 41) % 103, (i * 29) % 89]);
    const validationLabels = validationRows.map((_, i) => ((i * 104729) % 11) % 2);
    const { model, history, bestRound } = fitGbdt(
      { matrix: matrix(rows), labels },
      2,
      { ...params, rounds: 200, earlyStoppingRounds: 10, maxDepth: 4 },
      { matrix: matrix(validationRows), labels: validationLabels },
    );
    expect(history.length).toBe(bestRound + 10);
    expect(history.length).toBeLessThan(200);
    expect(model.trees).toHaveLength(bestRound);
    const best = Math.min(...history.map((h) => h.validationLoss!));
    expect(history[bestRound - 1]!.validationLoss).toBe(best);
  });

  it('is deterministic', () => {
    const fit = () => fitGbdt({ matrix: matrix(xorRows), labels: xorLabels }, 2, params).model;
    expect(fit()).toEqual(fit());
  });
});
