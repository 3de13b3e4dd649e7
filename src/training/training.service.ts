import { AppError } from '../common/errors';
import {
  type FeatureSpec,
  type ModelFamily,
  type ModelSignature,
  type ReferenceProfile,
} from '../common/signature';
import { type DatasetSource, loadDatasetSource } from './datasets/dataset.loader';
import {
  type DataQualityReport,
  DataQualityError,
  checkDataQuality,
  datasetAsTable,
} from './domain/data-quality';
import {
  type DatasetSpec,
  type LabelledRow,
  type MetricName,
  type Row,
  positiveClassOf,
} from './domain/dataset-spec';
import { columnLayout, encodeRows } from './domain/encoding';
import { GBDT_DEFAULTS, type GbdtParams, fitGbdt } from './domain/gbdt';
import {
  LOGISTIC_REGRESSION_DEFAULTS,
  type LogisticRegressionParams,
  type StepRecord,
  fitLogisticRegression,
} from './domain/logistic-regression';
import { type ClassificationReport, type HeadlineMetrics, evaluateClassification } from './domain/metrics';
import { type TrainedModel, labelsFromProbabilities, predictProbabilities } from './domain/model';
import { buildReferenceProfile, datasetFingerprint, summarizeNumeric } from './domain/reference-profile';
import { stratifiedSplit } from './domain/split';
import { exportOnnx } from './onnx/onnx-export.adapter';

/**
 * The programmatic training API (CLI, registry runs, retraining from production feedback): load →
 * data-quality gate → seeded stratified split → fit → evaluate → metric gate → ONNX + signature +
 * metrics + reference profile. No HTTP, no Nest, no clock in the outputs: same inputs, same bytes.
 */
export type Algorithm = 'logreg' | 'gbdt';
export const ALGORITHMS: readonly Algorithm[] = ['logreg', 'gbdt'];

export const DEFAULT_SEED = 42;

/** Split and decision parameters, valid for both algorithms. */
export interface CommonParams {
  testRatio: number;
  validationRatio: number;
  /** Binary only; NaN ⇒ chosen on the validation split (best positive-class F1). */
  decisionThreshold: number;
}
const COMMON_DEFAULTS: CommonParams = { testRatio: 0.2, validationRatio: 0.2, decisionThreshold: Number.NaN };

export function defaultHyperParameters(algorithm: Algorithm): Record<string, number> {
  const own = algorithm === 'logreg' ? LOGISTIC_REGRESSION_DEFAULTS : GBDT_DEFAULTS;
  return { ...own, ...COMMON_DEFAULTS };
}

export interface TrainOptions {
  /** `iris`, `credit`, a path to a dataset spec JSON, or a spec object (then `csvPath` is needed). */
  dataset: string | DatasetSpec;
  csvPath?: string;
  algorithm: Algorithm;
  seed?: number;
  hyperParameters?: Record<string, number | string | boolean>;
  /** Labelled production rows appended to the training split (same gate, same preprocessing). */
  extraRows?: LabelledRow[];
  /** Called after every optimizer iteration / boosting round. */
  onStep?: (record: StepRecord, maxSteps: number) => void;
  /** Called when a phase starts (loading, quality, fitting, evaluating, exporting). */
  onPhase?: (phase: TrainingPhase) => void;
}

export type TrainingPhase = 'loading' | 'quality' | 'fitting' | 'evaluating' | 'exporting';

export interface SplitMetrics extends HeadlineMetrics {
  rows: number;
}

/** The content of `metrics.json`. */
export interface MetricsReport {
  schemaVersion: 1;
  name: string;
  family: ModelFamily;
  task: 'binary' | 'multiclass';
  primaryMetric: MetricName;
  metricThresholds: Partial<Record<MetricName, number>>;
  seed: number;
  /** Test-split headline metrics (the gate and the registry read these). */
  test: SplitMetrics;
  validation: SplitMetrics;
  train: SplitMetrics;
  perClass: ClassificationReport['perClass'];
  confusionMatrix: ClassificationReport['confusionMatrix'];
  positiveClass?: string;
  decisionThreshold?: number;
  scoreDistribution?: ClassificationReport['scoreDistribution'];
  /** Iterations run, and the one kept (GBDT early stopping). */
  iterations: number;
  bestIteration: number;
}

export interface TrainingResult {
  onnx: Uint8Array;
  signature: ModelSignature;
  metrics: MetricsReport;
  reference: ReferenceProfile;
  history: StepRecord[];
  /** Every hyper-parameter used (defaults merged with overrides). */
  params: Record<string, number>;
  quality: DataQualityReport;
  /** The TypeScript model and its test-split predictions (parity checks, notebooks). */
  model: TrainedModel;
  spec: DatasetSpec;
  test: { rows: Row[]; actual: string[]; probabilities: number[][]; predicted: string[] };
  /** Wall-clock fit time (not written into any artifact). */
  trainingSeconds: number;
}

function resolveParams(
  algorithm: Algorithm,
  overrides: TrainOptions['hyperParameters'],
): Record<string, number> {
  const params = defaultHyperParameters(algorithm);
  const problems: string[] = [];
  for (const [key, raw] of Object.entries(overrides ?? {})) {
    if (!(key in params)) {
      problems.push(
        `unknown hyper-parameter "${key}" for ${algorithm} (known: ${Object.keys(params).join(', ')})`,
      );
      continue;
    }
    const value = typeof raw === 'number' ? raw : Number(raw);
    if (!Number.isFinite(value))
      problems.push(`hyper-parameter "${key}" must be a number, got ${JSON.stringify(raw)}`);
    else params[key] = value;
  }
  const p = params;
  const positive = [
    'maxIterations',
    'memory',
    'rounds',
    'learningRate',
    'maxDepth',
    'minSamplesLeaf',
    'maxBins',
  ];
  for (const key of positive) if (key in p && !((p[key] as number) > 0)) problems.push(`${key} must be > 0`);
  for (const key of ['l2', 'earlyStoppingRounds', 'minGain', 'tolerance']) {
    if (key in p && (p[key] as number) < 0) problems.push(`${key} must be >= 0`);
  }
  if (
    (p.testRatio as number) <= 0 ||
    (p.validationRatio as number) <= 0 ||
    (p.testRatio as number) + (p.validationRatio as number) >= 0.9
  ) {
    problems.push('testRatio and validationRatio must be > 0 and sum to < 0.9');
  }
  if (
    !Number.isNaN(p.decisionThreshold) &&
    !((p.decisionThreshold as number) > 0 && (p.decisionThreshold as number) < 1)
  ) {
    problems.push('decisionThreshold must be in (0, 1)');
  }
  if (problems.length > 0)
    throw new AppError('INVALID_INPUT', `Invalid hyper-parameters: ${problems.join('; ')}`, problems);
  return params;
}

/** The threshold in 0.05…0.95 (step 0.01) with the best positive-class F1 on the validation split. */
export function chooseDecisionThreshold(positive: readonly boolean[], scores: readonly number[]): number {
  let best = 0.5;
  let bestF1 = -1;
  for (let step = 5; step <= 95; step += 1) {
    const threshold = step / 100;
    let tp = 0;
    let fp = 0;
    let fn = 0;
    scores.forEach((score, i) => {
      const predicted = Math.fround(score) >= Math.fround(threshold);
      if (predicted && positive[i]) tp += 1;
      else if (predicted) fp += 1;
      else if (positive[i]) fn += 1;
    });
    const f1 = tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
    if (f1 > bestF1 + 1e-12) {
      bestF1 = f1;
      best = threshold;
    }
  }
  return best;
}

function splitMetrics(report: ClassificationReport): SplitMetrics {
  return { ...report.headline, rows: report.rows };
}

function featureSignature(spec: DatasetSpec, rows: readonly LabelledRow[]): FeatureSpec[] {
  return spec.features.map((feature): FeatureSpec => {
    const describe = feature.description === undefined ? {} : { description: feature.description };
    if (feature.type === 'numeric') {
      const summary = summarizeNumeric(rows.map((r) => Number(r.features[feature.name])));
      const bounds = {
        ...(feature.min === undefined ? {} : { min: feature.min }),
        ...(feature.max === undefined ? {} : { max: feature.max }),
        ...(feature.integer === undefined ? {} : { integer: feature.integer }),
      };
      return {
        name: feature.name,
        type: 'numeric',
        ...describe,
        ...bounds,
        trainingMin: summary.min,
        trainingMax: summary.max,
        mean: summary.mean,
        std: summary.std,
        example: feature.integer === true ? Math.round(summary.median) : summary.median,
      };
    }
    const counts = new Map<string, number>();
    for (const row of rows)
      counts.set(
        String(row.features[feature.name]),
        (counts.get(String(row.features[feature.name])) ?? 0) + 1,
      );
    let example = feature.categories[0] as string;
    for (const category of feature.categories)
      if ((counts.get(category) ?? 0) > (counts.get(example) ?? 0)) example = category;
    return {
      name: feature.name,
      type: 'categorical',
      ...describe,
      categories: [...feature.categories],
      example,
    };
  });
}

export async function trainModel(options: TrainOptions): Promise<TrainingResult> {
  const seed = options.seed ?? DEFAULT_SEED;
  if (!Number.isInteger(seed) || seed < 0)
    throw new AppError('INVALID_INPUT', `seed must be a non-negative integer, got ${seed}`);
  if (!ALGORITHMS.includes(options.algorithm)) {
    throw new AppError(
      'INVALID_INPUT',
      `Unknown algorithm "${String(options.algorithm)}" (use ${ALGORITHMS.join(' or ')})`,
    );
  }
  const params = resolveParams(options.algorithm, options.hyperParameters);

  options.onPhase?.('loading');
  const source: DatasetSource = loadDatasetSource(options.dataset, options.csvPath);
  const { spec } = source;

  options.onPhase?.('quality');
  const { report: quality, dataset } = checkDataQuality(spec, source.table);
  if (!quality.passed) throw new DataQualityError(quality);
  let extraRows: LabelledRow[] = [];
  if (options.extraRows && options.extraRows.length > 0) {
    const extraCheck = checkDataQuality(
      {
        ...spec,
        name: `${spec.name} (extra rows)`,
        quality: { ...spec.quality, minRows: 0, minClassRatio: 0, maxDuplicateRatio: 1 },
      },
      datasetAsTable({ spec, rows: options.extraRows }),
    );
    if (!extraCheck.report.passed) throw new DataQualityError(extraCheck.report);
    extraRows = extraCheck.dataset.rows;
  }

  const classIndex = new Map(spec.classes.map((label, i) => [label, i]));
  const labelsOf = (rows: readonly LabelledRow[]): number[] =>
    rows.map((r) => classIndex.get(r.label) as number);
  const split = stratifiedSplit(labelsOf(dataset.rows), seed, params.testRatio, params.validationRatio);
  const pick = (indices: number[]): LabelledRow[] => indices.map((i) => dataset.rows[i] as LabelledRow);
  const trainRows = [...pick(split.train), ...extraRows];
  const validationRows = pick(split.validation);
  const testRows = pick(split.test);

  const encode = (
    rows: readonly LabelledRow[],
  ): { matrix: ReturnType<typeof encodeRows>; labels: number[] } => ({
    matrix: encodeRows(
      spec.features,
      rows.map((r) => r.features),
    ),
    labels: labelsOf(rows),
  });
  const train = encode(trainRows);
  const validation = encode(validationRows);
  const classCount = spec.classes.length;
  const positiveClass = positiveClassOf(spec);
  const positiveIndex = positiveClass === undefined ? 1 : spec.classes.indexOf(positiveClass);

  options.onPhase?.('fitting');
  const started = process.hrtime.bigint();
  let model: TrainedModel;
  let history: StepRecord[];
  let bestIteration: number;
  if (options.algorithm === 'logreg') {
    const isNumeric = columnLayout(spec.features).map((c) => c.kind === 'numeric');
    const lrParams = params as unknown as LogisticRegressionParams;
    const fit = fitLogisticRegression(train, classCount, isNumeric, lrParams, validation, (record) =>
      options.onStep?.(record, lrParams.maxIterations),
    );
    model = fit.model;
    history = fit.history;
    bestIteration = history.length;
  } else {
    const gbdtParams = params as unknown as GbdtParams;
    const fit = fitGbdt(
      train,
      classCount,
      gbdtParams,
      validation,
      (record) => options.onStep?.(record, gbdtParams.rounds),
      positiveIndex,
    );
    model = fit.model;
    history = fit.history;
    bestIteration = fit.bestRound;
  }
  const trainingSeconds = Number(process.hrtime.bigint() - started) / 1e9;

  options.onPhase?.('evaluating');
  const predict = (rows: readonly LabelledRow[]): number[][] =>
    predictProbabilities(
      model,
      spec.features,
      rows.map((r) => r.features),
    );
  const trainProbabilities = predict(trainRows);
  const validationProbabilities = predict(validationRows);
  const testProbabilities = predict(testRows);
  let decisionThreshold: number | undefined;
  if (positiveClass !== undefined) {
    decisionThreshold = Number.isNaN(params.decisionThreshold)
      ? chooseDecisionThreshold(
          validationRows.map((r) => r.label === positiveClass),
          validationProbabilities.map((p) => p[positiveIndex] as number),
        )
      : params.decisionThreshold;
  }
  const rule = { classes: spec.classes, positiveClass, decisionThreshold };
  const evaluate = (rows: readonly LabelledRow[], probabilities: number[][]): ClassificationReport =>
    evaluateClassification({
      classes: spec.classes,
      actual: rows.map((r) => r.label),
      predicted: labelsFromProbabilities(probabilities, rule),
      probabilities,
      positiveClass,
      decisionThreshold,
    });
  const testReport = evaluate(testRows, testProbabilities);
  const family: ModelFamily = options.algorithm === 'logreg' ? 'logistic_regression' : 'gbdt';
  const metrics: MetricsReport = {
    schemaVersion: 1,
    name: spec.name,
    family,
    task: classCount === 2 ? 'binary' : 'multiclass',
    primaryMetric: spec.primaryMetric,
    metricThresholds: spec.metricThresholds ?? {},
    seed,
    test: splitMetrics(testReport),
    validation: splitMetrics(evaluate(validationRows, validationProbabilities)),
    train: splitMetrics(evaluate(trainRows, trainProbabilities)),
    perClass: testReport.perClass,
    confusionMatrix: testReport.confusionMatrix,
    ...(positiveClass === undefined
      ? {}
      : { positiveClass, decisionThreshold, scoreDistribution: testReport.scoreDistribution }),
    iterations: history.length,
    bestIteration,
  };

  const failures = Object.entries(spec.metricThresholds ?? {})
    .map(([metric, minimum]) => ({ metric, minimum, value: testReport.headline[metric as MetricName] }))
    .filter(({ minimum, value }) => value === null || value < minimum);
  if (failures.length > 0) {
    throw new AppError(
      'QUALITY_GATE_FAILED',
      `Metric gate failed for "${spec.name}" (${options.algorithm}): ${failures
        .map(
          ({ metric, minimum, value }) =>
            `test ${metric} = ${value === null ? 'undefined' : value.toFixed(4)} < ${minimum}`,
        )
        .join('; ')}`,
      { failures, metrics: metrics.test },
    );
  }

  options.onPhase?.('exporting');
  const signature: ModelSignature = {
    schemaVersion: 1,
    name: spec.name,
    task: metrics.task,
    family,
    target: spec.target,
    features: featureSignature(spec, trainRows),
    classes: [...spec.classes],
    ...(positiveClass === undefined ? {} : { positiveClass, decisionThreshold }),
    primaryMetric: spec.primaryMetric,
    hyperParameters: Object.fromEntries(
      Object.entries(params).filter(([key, value]) => !(key === 'decisionThreshold' && Number.isNaN(value))),
    ),
    datasetFingerprint: datasetFingerprint(spec, [...dataset.rows, ...extraRows]),
    seed,
    inputs: spec.features.map((f) => ({
      name: f.name,
      type: f.type === 'numeric' ? ('float32' as const) : ('string' as const),
      shape: [-1, 1] as [number, number],
    })),
    outputs: [
      { name: 'label', type: 'string', shape: [-1] },
      { name: 'probabilities', type: 'float32', shape: [-1, classCount] },
    ],
  };
  const onnx = exportOnnx({ features: spec.features, model, signature });
  const reference = buildReferenceProfile({
    spec,
    rows: trainRows,
    predicted: labelsFromProbabilities(trainProbabilities, rule),
    scores:
      positiveClass === undefined ? undefined : trainProbabilities.map((p) => p[positiveIndex] as number),
    seed,
  });

  return {
    onnx,
    signature,
    metrics,
    reference,
    history,
    params,
    quality,
    model,
    spec,
    test: {
      rows: testRows.map((r) => r.features),
      actual: testRows.map((r) => r.label),
      probabilities: testProbabilities,
      predicted: labelsFromProbabilities(testProbabilities, rule),
    },
    trainingSeconds,
  };
}
