import { type Matrix } from './encoding';
import {
  LOGISTIC_REGRESSION_DEFAULTS,
  fitLogisticRegression,
  minimizeLbfgs,
  predictLogisticRegression,
  standardization,
} from './logistic-regression';

const matrix = (rows: number[][]): Matrix => ({
  rows: rows.length,
  cols: rows[0]!.length,
  data: Float64Array.from(rows.flat()),
});

describe('minimizeLbfgs', () => {
  it('finds the minimum of a convex quadratic', () => {
    // f(x) = (x0 − 3)² + 10·(x1 + 1)² + x0·x1
    const f = (x: Float64Array, g: Float64Array): number => {
      const [a, b] = [x[0]!, x[1]!];
      g[0] = 2 * (a - 3) + b;
      g[1] = 20 * (b + 1) + a;
      return (a - 3) ** 2 + 10 * (b + 1) ** 2 + a * b;
    };
    const x = minimizeLbfgs(f, new Float64Array(2), { maxIterations: 100, tolerance: 1e-10, memory: 5 });
    // ∇f = 0 ⇔ 2a + b = 6, a + 20b = −20 ⇒ a = 140/39, b = −46/39
    expect(x[0]).toBeCloseTo(140 / 39, 8);
    expect(x[1]).toBeCloseTo(-46 / 39, 8);
  });
});

describe('standardization', () => {
  it('centres and scales numeric columns (float32), leaves one-hot columns alone', () => {
    const { offsets, scales } = standardization(
      matrix([
        [1, 0],
        [3, 1],
        [5, 0],
      ]),
      [true, false],
    );
    expect(offsets).toEqual([3, 0]);
    expect(scales).toEqual([Math.fround(1 / Math.sqrt(8 / 3)), 1]);
  });

  it('a constant column gets scale 1 instead of a division by zero', () => {
    expect(standardization(matrix([[2], [2]]), [true]).scales).toEqual([1]);
  });
});

describe('fitLogisticRegression', () => {
  const rows = Array.from({ length: 60 }, (_, i) => [i, (i * 7) % 5]);
  const labels = rows.map(([x]) => (x! < 20 ? 0 : x! < 40 ? 1 : 2));

  it('separates ordered classes along the informative column', () => {
    const { model, history } = fitLogisticRegression(
      { matrix: matrix(rows), labels },
      3,
      [true, true],
      LOGISTIC_REGRESSION_DEFAULTS,
    );
    const p = predictLogisticRegression(
      model,
      matrix([
        [5, 0],
        [30, 0],
        [55, 0],
      ]),
    );
    expect(p.map((row) => row.indexOf(Math.max(...row)))).toEqual([0, 1, 2]);
    p.forEach((row) => expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12));
    // weights on the informative column increase with the class; the objective only goes down
    const w = model.weights.map((k) => k[0]!);
    expect(w[0]).toBeLessThan(w[1]!);
    expect(w[1]).toBeLessThan(w[2]!);
    history.slice(1).forEach((h, i) => expect(h.trainLoss).toBeLessThanOrEqual(history[i]!.trainLoss));
  });

  it('a stronger L2 penalty gives smaller weights', () => {
    const norm = (l2: number) => {
      const { model } = fitLogisticRegression({ matrix: matrix(rows), labels }, 3, [true, true], {
        ...LOGISTIC_REGRESSION_DEFAULTS,
        l2,
      });
      return model.weights.flat().reduce((sum, w) => sum + w * w, 0);
    };
    expect(norm(1)).toBeLessThan(norm(0.01));
  });

  it('stores float32 parameters (what the ONNX graph holds)', () => {
    const { model } = fitLogisticRegression(
      { matrix: matrix(rows), labels },
      3,
      [true, true],
      LOGISTIC_REGRESSION_DEFAULTS,
    );
    for (const value of [...model.weights.flat(), ...model.intercepts, ...model.offsets, ...model.scales]) {
      expect(Math.fround(value)).toBe(value);
    }
  });
});
