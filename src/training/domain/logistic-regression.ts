import { type Matrix } from './encoding';

/**
 * Multinomial logistic regression (softmax over K classes, also for K = 2) on standardized
 * columns, with an L2 penalty on the weights (not the intercepts), fitted by full-batch L-BFGS
 * with a backtracking Armijo line search: no randomness, so the same data gives the same weights.
 */
export interface LogisticRegressionParams {
  /** L2 penalty λ in mean log loss + λ/2·‖W‖². */
  l2: number;
  maxIterations: number;
  /** Stop when the gradient's max-norm falls below this. */
  tolerance: number;
  /** L-BFGS memory. */
  memory: number;
}

export const LOGISTIC_REGRESSION_DEFAULTS: LogisticRegressionParams = {
  l2: 0.01,
  maxIterations: 300,
  tolerance: 1e-6,
  memory: 10,
};

export interface LogisticRegressionModel {
  family: 'logistic_regression';
  classCount: number;
  /** Standardization per encoded column: z = (x − offset) · scale (float32 values). */
  offsets: number[];
  scales: number[];
  /** K × D weights and K intercepts on standardized columns (float32 values). */
  weights: number[][];
  intercepts: number[];
}

export interface StepRecord {
  step: number;
  trainLoss: number;
  validationLoss?: number;
}

/** Mean/std per column; one-hot (0/1) columns are left as they are. */
export function standardization(
  matrix: Matrix,
  isNumeric: readonly boolean[],
): { offsets: number[]; scales: number[] } {
  const offsets: number[] = [];
  const scales: number[] = [];
  for (let j = 0; j < matrix.cols; j += 1) {
    if (!isNumeric[j]) {
      offsets.push(0);
      scales.push(1);
      continue;
    }
    let sum = 0;
    for (let i = 0; i < matrix.rows; i += 1) sum += matrix.data[i * matrix.cols + j] as number;
    const mean = sum / Math.max(1, matrix.rows);
    let squares = 0;
    for (let i = 0; i < matrix.rows; i += 1)
      squares += ((matrix.data[i * matrix.cols + j] as number) - mean) ** 2;
    const std = Math.sqrt(squares / Math.max(1, matrix.rows));
    // float32: the ONNX Scaler holds float32 attributes, so the TypeScript model uses the same values.
    offsets.push(Math.fround(mean));
    scales.push(Math.fround(std > 1e-12 ? 1 / std : 1));
  }
  return { offsets, scales };
}

function standardize(matrix: Matrix, offsets: readonly number[], scales: readonly number[]): Float64Array {
  const out = new Float64Array(matrix.data.length);
  for (let i = 0; i < matrix.rows; i += 1) {
    for (let j = 0; j < matrix.cols; j += 1) {
      const at = i * matrix.cols + j;
      out[at] = ((matrix.data[at] as number) - (offsets[j] as number)) * (scales[j] as number);
    }
  }
  return out;
}

/** Softmax of the linear scores, rows × K. Parameter layout: K blocks of (D weights, 1 intercept). */
function probabilities(
  x: Float64Array,
  rows: number,
  cols: number,
  classCount: number,
  theta: Float64Array,
): Float64Array {
  const out = new Float64Array(rows * classCount);
  const stride = cols + 1;
  for (let i = 0; i < rows; i += 1) {
    let max = -Infinity;
    for (let k = 0; k < classCount; k += 1) {
      let score = theta[k * stride + cols] as number;
      for (let j = 0; j < cols; j += 1)
        score += (theta[k * stride + j] as number) * (x[i * cols + j] as number);
      out[i * classCount + k] = score;
      if (score > max) max = score;
    }
    let sum = 0;
    for (let k = 0; k < classCount; k += 1) {
      const e = Math.exp((out[i * classCount + k] as number) - max);
      out[i * classCount + k] = e;
      sum += e;
    }
    for (let k = 0; k < classCount; k += 1)
      out[i * classCount + k] = (out[i * classCount + k] as number) / sum;
  }
  return out;
}

function meanLogLoss(p: Float64Array, labels: Int32Array | readonly number[], classCount: number): number {
  let total = 0;
  for (let i = 0; i < labels.length; i += 1) {
    total -= Math.log(Math.max(1e-15, p[i * classCount + (labels[i] as number)] as number));
  }
  return total / Math.max(1, labels.length);
}

export function fitLogisticRegression(
  train: { matrix: Matrix; labels: readonly number[] },
  classCount: number,
  isNumeric: readonly boolean[],
  params: LogisticRegressionParams,
  validation?: { matrix: Matrix; labels: readonly number[] },
  onStep?: (record: StepRecord) => void,
): { model: LogisticRegressionModel; history: StepRecord[] } {
  const { rows, cols } = train.matrix;
  const { offsets, scales } = standardization(train.matrix, isNumeric);
  const x = standardize(train.matrix, offsets, scales);
  const xValidation = validation ? standardize(validation.matrix, offsets, scales) : undefined;
  const stride = cols + 1;
  const size = classCount * stride;

  const objective = (theta: Float64Array, gradient: Float64Array): number => {
    const p = probabilities(x, rows, cols, classCount, theta);
    gradient.fill(0);
    for (let i = 0; i < rows; i += 1) {
      const label = train.labels[i] as number;
      for (let k = 0; k < classCount; k += 1) {
        const residual = (p[i * classCount + k] as number) - (k === label ? 1 : 0);
        for (let j = 0; j < cols; j += 1) {
          gradient[k * stride + j] =
            (gradient[k * stride + j] as number) + residual * (x[i * cols + j] as number);
        }
        gradient[k * stride + cols] = (gradient[k * stride + cols] as number) + residual;
      }
    }
    let penalty = 0;
    for (let k = 0; k < classCount; k += 1) {
      for (let j = 0; j <= cols; j += 1) {
        const at = k * stride + j;
        gradient[at] = (gradient[at] as number) / Math.max(1, rows);
        if (j < cols) {
          const w = theta[at] as number;
          gradient[at] = gradient[at] + params.l2 * w;
          penalty += w * w;
        }
      }
    }
    return meanLogLoss(p, train.labels, classCount) + (params.l2 / 2) * penalty;
  };

  const history: StepRecord[] = [];
  const theta = minimizeLbfgs(objective, new Float64Array(size), params, (step, loss, current) => {
    const record: StepRecord = { step, trainLoss: loss };
    if (validation && xValidation) {
      const p = probabilities(xValidation, validation.matrix.rows, cols, classCount, current);
      record.validationLoss = meanLogLoss(p, validation.labels, classCount);
    }
    history.push(record);
    onStep?.(record);
  });

  const weights: number[][] = [];
  const intercepts: number[] = [];
  for (let k = 0; k < classCount; k += 1) {
    weights.push(Array.from(theta.subarray(k * stride, k * stride + cols), (w) => Math.fround(w)));
    intercepts.push(Math.fround(theta[k * stride + cols] as number));
  }
  return {
    model: { family: 'logistic_regression', classCount, offsets, scales, weights, intercepts },
    history,
  };
}

export function predictLogisticRegression(model: LogisticRegressionModel, matrix: Matrix): number[][] {
  const x = standardize(matrix, model.offsets, model.scales);
  const stride = matrix.cols + 1;
  const theta = new Float64Array(model.classCount * stride);
  model.weights.forEach((row, k) => {
    theta.set(row, k * stride);
    theta[k * stride + matrix.cols] = model.intercepts[k] as number;
  });
  const p = probabilities(x, matrix.rows, matrix.cols, model.classCount, theta);
  return Array.from({ length: matrix.rows }, (_, i) =>
    Array.from(p.subarray(i * model.classCount, (i + 1) * model.classCount)),
  );
}

const dot = (a: Float64Array, b: Float64Array): number => {
  let sum = 0;
  for (let i = 0; i < a.length; i += 1) sum += (a[i] as number) * (b[i] as number);
  return sum;
};

/** Limited-memory BFGS (two-loop recursion) with a backtracking Armijo line search. */
export function minimizeLbfgs(
  objective: (x: Float64Array, gradient: Float64Array) => number,
  start: Float64Array,
  params: Pick<LogisticRegressionParams, 'maxIterations' | 'tolerance' | 'memory'>,
  onIteration?: (step: number, value: number, x: Float64Array) => void,
): Float64Array {
  const n = start.length;
  let x = Float64Array.from(start);
  let gradient = new Float64Array(n);
  let value = objective(x, gradient);
  const sHistory: Float64Array[] = [];
  const yHistory: Float64Array[] = [];
  const rhoHistory: number[] = [];
  for (let iteration = 1; iteration <= params.maxIterations; iteration += 1) {
    let maxGradient = 0;
    for (const g of gradient) maxGradient = Math.max(maxGradient, Math.abs(g));
    if (maxGradient < params.tolerance) break;

    // Two-loop recursion: direction = −H·g.
    const q = Float64Array.from(gradient);
    const alphas: number[] = [];
    for (let m = sHistory.length - 1; m >= 0; m -= 1) {
      const alpha = (rhoHistory[m] as number) * dot(sHistory[m] as Float64Array, q);
      alphas[m] = alpha;
      const y = yHistory[m] as Float64Array;
      for (let i = 0; i < n; i += 1) q[i] = (q[i] as number) - alpha * (y[i] as number);
    }
    if (sHistory.length > 0) {
      const s = sHistory[sHistory.length - 1] as Float64Array;
      const y = yHistory[yHistory.length - 1] as Float64Array;
      const gamma = dot(s, y) / dot(y, y);
      for (let i = 0; i < n; i += 1) q[i] = (q[i] as number) * gamma;
    }
    for (let m = 0; m < sHistory.length; m += 1) {
      const beta = (rhoHistory[m] as number) * dot(yHistory[m] as Float64Array, q);
      const s = sHistory[m] as Float64Array;
      for (let i = 0; i < n; i += 1)
        q[i] = (q[i] as number) + ((alphas[m] as number) - beta) * (s[i] as number);
    }
    const direction = q.map((v) => -v);
    let slope = dot(direction, gradient);
    if (slope >= 0) {
      // Not a descent direction: fall back to steepest descent and forget the curvature pairs.
      for (let i = 0; i < n; i += 1) direction[i] = -(gradient[i] as number);
      slope = dot(direction, gradient);
      sHistory.length = 0;
      yHistory.length = 0;
      rhoHistory.length = 0;
    }
    let step = sHistory.length === 0 ? Math.min(1, 1 / Math.max(1e-12, Math.sqrt(-slope))) : 1;
    const candidate = new Float64Array(n);
    const candidateGradient = new Float64Array(n);
    let candidateValue = Infinity;
    for (let tries = 0; tries < 40; tries += 1) {
      for (let i = 0; i < n; i += 1) candidate[i] = (x[i] as number) + step * (direction[i] as number);
      candidateValue = objective(candidate, candidateGradient);
      if (candidateValue <= value + 1e-4 * step * slope) break;
      step /= 2;
    }
    if (!(candidateValue < value)) break;
    const s = new Float64Array(n);
    const y = new Float64Array(n);
    for (let i = 0; i < n; i += 1) {
      s[i] = (candidate[i] as number) - (x[i] as number);
      y[i] = (candidateGradient[i] as number) - (gradient[i] as number);
    }
    const sy = dot(s, y);
    if (sy > 1e-12) {
      sHistory.push(s);
      yHistory.push(y);
      rhoHistory.push(1 / sy);
      if (sHistory.length > params.memory) {
        sHistory.shift();
        yHistory.shift();
        rhoHistory.shift();
      }
    }
    x = Float64Array.from(candidate);
    gradient = Float64Array.from(candidateGradient);
    value = candidateValue;
    onIteration?.(iteration, value, x);
  }
  return x;
}
