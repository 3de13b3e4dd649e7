import { type Matrix } from './encoding';
import { type StepRecord } from './logistic-regression';

/**
 * Histogram-based gradient-boosted decision trees (second-order, XGBoost-style gain), logistic loss
 * for two classes (one tree per round on the positive class's margin) and softmax for more (one tree
 * per class per round). Trees grow depth-first to `maxDepth`; early stopping watches the validation
 * log loss and keeps the best round. Deterministic: no sampling, fixed iteration order.
 *
 * Split thresholds are the upper edge of a bin, which is a float32 value seen in training, and rows
 * go left when `x <= threshold`: with float32 inputs that is exactly what the ONNX `BRANCH_LEQ`
 * nodes do, so the exported ensemble routes every row like this code.
 */
export interface GbdtParams {
  rounds: number;
  learningRate: number;
  maxDepth: number;
  minSamplesLeaf: number;
  /** L2 regularisation of leaf values (λ). */
  l2: number;
  /** Quantile bins per column (≤ 255). */
  maxBins: number;
  /** Stop when the validation loss has not improved for this many rounds (0 = never). */
  earlyStoppingRounds: number;
  /** Minimum gain for a split. */
  minGain: number;
}

export const GBDT_DEFAULTS: GbdtParams = {
  rounds: 300,
  learningRate: 0.1,
  maxDepth: 3,
  minSamplesLeaf: 20,
  l2: 1,
  maxBins: 64,
  earlyStoppingRounds: 30,
  minGain: 1e-6,
};

/** A tree as flat arrays; node 0 is the root. Leaves have `feature = -1`. */
export interface Tree {
  /** Which margin the tree adds to (0 for binary models). */
  target: number;
  feature: number[];
  threshold: number[];
  left: number[];
  right: number[];
  /** Leaf value (already multiplied by the learning rate), float32. */
  value: number[];
}

export interface GbdtModel {
  family: 'gbdt';
  classCount: number;
  /** 1 for binary (the positive class's log-odds), K for multiclass. Float32 values. */
  baseMargins: number[];
  trees: Tree[];
  /** Binary: index of the class whose probability the margin models. */
  positiveIndex: number;
}

interface Bins {
  /** Per column: ascending float32 upper edges of its bins. */
  edges: number[][];
  /** Column-major bin codes: codes[j * rows + i]. */
  codes: Uint8Array;
  rows: number;
}

function upperBound(edges: readonly number[], value: number): number {
  // First edge >= value; values above the last edge fall in the last bin.
  let low = 0;
  let high = edges.length - 1;
  while (low < high) {
    const mid = (low + high) >> 1;
    if ((edges[mid] as number) >= value) high = mid;
    else low = mid + 1;
  }
  return low;
}

function buildBins(matrix: Matrix, maxBins: number): Bins {
  const { rows, cols, data } = matrix;
  const edges: number[][] = [];
  const codes = new Uint8Array(rows * cols);
  const column = new Float64Array(rows);
  for (let j = 0; j < cols; j += 1) {
    for (let i = 0; i < rows; i += 1) column[i] = data[i * cols + j] as number;
    const sorted = Float64Array.from(column).sort();
    const unique: number[] = [];
    for (const v of sorted) if (unique.length === 0 || unique[unique.length - 1] !== v) unique.push(v);
    let columnEdges: number[];
    if (unique.length <= maxBins) {
      columnEdges = unique;
    } else {
      columnEdges = [];
      for (let b = 1; b <= maxBins; b += 1) {
        const v = sorted[Math.min(rows - 1, Math.ceil((b * rows) / maxBins) - 1)] as number;
        if (columnEdges.length === 0 || (columnEdges[columnEdges.length - 1] as number) < v)
          columnEdges.push(v);
      }
    }
    if (columnEdges.length === 0) columnEdges = [0];
    edges.push(columnEdges);
    for (let i = 0; i < rows; i += 1) codes[j * rows + i] = upperBound(columnEdges, column[i] as number);
  }
  return { edges, codes, rows };
}

interface GrowContext {
  bins: Bins;
  cols: number;
  gradients: Float64Array;
  hessians: Float64Array;
  params: GbdtParams;
}

function growTree(
  context: GrowContext,
  rows: Int32Array,
  target: number,
): { tree: Tree; leafOf: Int32Array } {
  const { bins, cols, gradients, hessians, params } = context;
  const tree: Tree = { target, feature: [], threshold: [], left: [], right: [], value: [] };
  const leafOf = new Int32Array(bins.rows);
  const maxBinCount = Math.max(...bins.edges.map((e) => e.length));
  const gradHistogram = new Float64Array(maxBinCount);
  const hessHistogram = new Float64Array(maxBinCount);
  const countHistogram = new Int32Array(maxBinCount);

  const addNode = (): number => {
    tree.feature.push(-1);
    tree.threshold.push(0);
    tree.left.push(-1);
    tree.right.push(-1);
    tree.value.push(0);
    return tree.feature.length - 1;
  };

  const grow = (nodeRows: Int32Array, depth: number): number => {
    const node = addNode();
    let gradSum = 0;
    let hessSum = 0;
    for (const r of nodeRows) {
      gradSum += gradients[r] as number;
      hessSum += hessians[r] as number;
    }
    const parentScore = (gradSum * gradSum) / (hessSum + params.l2);
    let bestGain = params.minGain;
    let bestFeature = -1;
    let bestBin = -1;
    if (depth < params.maxDepth && nodeRows.length >= 2 * params.minSamplesLeaf) {
      for (let j = 0; j < cols; j += 1) {
        const binCount = (bins.edges[j] as number[]).length;
        if (binCount < 2) continue;
        gradHistogram.fill(0, 0, binCount);
        hessHistogram.fill(0, 0, binCount);
        countHistogram.fill(0, 0, binCount);
        const offset = j * bins.rows;
        for (const r of nodeRows) {
          const b = bins.codes[offset + r] as number;
          gradHistogram[b] = (gradHistogram[b] as number) + (gradients[r] as number);
          hessHistogram[b] = (hessHistogram[b] as number) + (hessians[r] as number);
          countHistogram[b] = (countHistogram[b] as number) + 1;
        }
        let leftGrad = 0;
        let leftHess = 0;
        let leftCount = 0;
        for (let b = 0; b < binCount - 1; b += 1) {
          leftGrad += gradHistogram[b] as number;
          leftHess += hessHistogram[b] as number;
          leftCount += countHistogram[b] as number;
          const rightCount = nodeRows.length - leftCount;
          if (leftCount < params.minSamplesLeaf) continue;
          if (rightCount < params.minSamplesLeaf) break;
          const rightGrad = gradSum - leftGrad;
          const rightHess = hessSum - leftHess;
          const gain =
            (leftGrad * leftGrad) / (leftHess + params.l2) +
            (rightGrad * rightGrad) / (rightHess + params.l2) -
            parentScore;
          if (gain > bestGain) {
            bestGain = gain;
            bestFeature = j;
            bestBin = b;
          }
        }
      }
    }
    if (bestFeature < 0) {
      tree.value[node] = Math.fround((-gradSum / (hessSum + params.l2)) * params.learningRate);
      for (const r of nodeRows) leafOf[r] = node;
      return node;
    }
    const offset = bestFeature * bins.rows;
    let leftCount = 0;
    for (const r of nodeRows) if ((bins.codes[offset + r] as number) <= bestBin) leftCount += 1;
    const leftRows = new Int32Array(leftCount);
    const rightRows = new Int32Array(nodeRows.length - leftCount);
    let li = 0;
    let ri = 0;
    for (const r of nodeRows) {
      if ((bins.codes[offset + r] as number) <= bestBin) leftRows[li++] = r;
      else rightRows[ri++] = r;
    }
    tree.feature[node] = bestFeature;
    tree.threshold[node] = (bins.edges[bestFeature] as number[])[bestBin] as number;
    tree.left[node] = grow(leftRows, depth + 1);
    tree.right[node] = grow(rightRows, depth + 1);
    return node;
  };

  grow(rows, 0);
  return { tree, leafOf };
}

/** The leaf a row lands in (float32 comparison, as ONNX Runtime does). */
function leafValue(tree: Tree, data: Float64Array, rowOffset: number): number {
  let node = 0;
  while ((tree.feature[node] as number) >= 0) {
    const x = Math.fround(data[rowOffset + (tree.feature[node] as number)] as number);
    node = x <= (tree.threshold[node] as number) ? (tree.left[node] as number) : (tree.right[node] as number);
  }
  return tree.value[node] as number;
}

function marginCount(classCount: number): number {
  return classCount === 2 ? 1 : classCount;
}

/** Margins → probabilities in class order (sigmoid for binary, softmax otherwise). */
function toProbabilities(
  margins: Float64Array,
  offset: number,
  classCount: number,
  positiveIndex: number,
): number[] {
  if (classCount === 2) {
    const p = 1 / (1 + Math.exp(-(margins[offset] as number)));
    return positiveIndex === 1 ? [1 - p, p] : [p, 1 - p];
  }
  let max = -Infinity;
  for (let k = 0; k < classCount; k += 1) max = Math.max(max, margins[offset + k] as number);
  const exps = Array.from({ length: classCount }, (_, k) => Math.exp((margins[offset + k] as number) - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

function logLossOf(
  margins: Float64Array,
  labels: readonly number[],
  classCount: number,
  positiveIndex: number,
): number {
  const m = marginCount(classCount);
  let total = 0;
  for (let i = 0; i < labels.length; i += 1) {
    const p = toProbabilities(margins, i * m, classCount, positiveIndex)[labels[i] as number] as number;
    total -= Math.log(Math.max(1e-15, p));
  }
  return total / Math.max(1, labels.length);
}

export function fitGbdt(
  train: { matrix: Matrix; labels: readonly number[] },
  classCount: number,
  params: GbdtParams,
  validation?: { matrix: Matrix; labels: readonly number[] },
  onStep?: (record: StepRecord) => void,
  positiveIndex = 1,
): { model: GbdtModel; history: StepRecord[]; bestRound: number } {
  const { rows, cols } = train.matrix;
  const m = marginCount(classCount);
  const bins = buildBins(train.matrix, Math.min(255, Math.max(2, params.maxBins)));

  // Start from the class prior (log-odds / log-share), as every boosting library does.
  const counts = new Array<number>(classCount).fill(0);
  for (const label of train.labels) counts[label] = (counts[label] as number) + 1;
  const prior = counts.map((c) => Math.max(c, 1) / Math.max(1, rows));
  const baseMargins =
    classCount === 2
      ? [Math.fround(Math.log((prior[positiveIndex] as number) / (prior[1 - positiveIndex] as number)))]
      : prior.map((p) => Math.fround(Math.log(p)));

  const margins = new Float64Array(rows * m);
  for (let i = 0; i < rows; i += 1)
    for (let k = 0; k < m; k += 1) margins[i * m + k] = baseMargins[k] as number;
  const validationRows = validation?.matrix.rows ?? 0;
  const validationMargins = new Float64Array(validationRows * m);
  for (let i = 0; i < validationRows; i += 1) {
    for (let k = 0; k < m; k += 1) validationMargins[i * m + k] = baseMargins[k] as number;
  }

  const gradients = new Float64Array(rows);
  const hessians = new Float64Array(rows);
  const allRows = Int32Array.from({ length: rows }, (_, i) => i);
  const trees: Tree[] = [];
  const history: StepRecord[] = [];
  let bestLoss = Infinity;
  let bestRound = 0;

  for (let round = 1; round <= params.rounds; round += 1) {
    const probabilities = Array.from({ length: rows }, (_, i) =>
      toProbabilities(margins, i * m, classCount, positiveIndex),
    );
    for (let k = 0; k < m; k += 1) {
      const classIndex = classCount === 2 ? positiveIndex : k;
      for (let i = 0; i < rows; i += 1) {
        const p = (probabilities[i] as number[])[classIndex] as number;
        gradients[i] = p - (train.labels[i] === classIndex ? 1 : 0);
        hessians[i] = Math.max(p * (1 - p), 1e-16);
      }
      const { tree, leafOf } = growTree({ bins, cols, gradients, hessians, params }, allRows, k);
      trees.push(tree);
      for (let i = 0; i < rows; i += 1) {
        margins[i * m + k] = (margins[i * m + k] as number) + (tree.value[leafOf[i] as number] as number);
      }
      if (validation) {
        for (let i = 0; i < validationRows; i += 1) {
          validationMargins[i * m + k] =
            (validationMargins[i * m + k] as number) + leafValue(tree, validation.matrix.data, i * cols);
        }
      }
    }
    const record: StepRecord = {
      step: round,
      trainLoss: logLossOf(margins, train.labels, classCount, positiveIndex),
    };
    if (validation) {
      record.validationLoss = logLossOf(validationMargins, validation.labels, classCount, positiveIndex);
      if (record.validationLoss < bestLoss - 1e-12) {
        bestLoss = record.validationLoss;
        bestRound = round;
      }
    } else {
      bestRound = round;
    }
    history.push(record);
    onStep?.(record);
    if (validation && params.earlyStoppingRounds > 0 && round - bestRound >= params.earlyStoppingRounds)
      break;
  }
  return {
    model: { family: 'gbdt', classCount, baseMargins, trees: trees.slice(0, bestRound * m), positiveIndex },
    history,
    bestRound,
  };
}

export function predictGbdt(model: GbdtModel, matrix: Matrix): number[][] {
  const m = marginCount(model.classCount);
  const margins = new Float64Array(matrix.rows * m);
  for (let i = 0; i < matrix.rows; i += 1) {
    for (let k = 0; k < m; k += 1) margins[i * m + k] = model.baseMargins[k] as number;
    for (const tree of model.trees) {
      margins[i * m + tree.target] =
        (margins[i * m + tree.target] as number) + leafValue(tree, matrix.data, i * matrix.cols);
    }
  }
  return Array.from({ length: matrix.rows }, (_, i) =>
    toProbabilities(margins, i * m, model.classCount, model.positiveIndex),
  );
}
