import { AppError } from '../../common/errors';

/**
 * The description of a tabular classification data set: what the columns are, what values they may
 * take, what the data-quality gate tolerates and what the trained model must reach. The built-in
 * data sets (`iris`, `credit`) are described by the same type as a user's CSV (`spec.json`).
 */
export interface NumericColumnSpec {
  name: string;
  type: 'numeric';
  description?: string;
  /** Physical bounds (inclusive). A value outside them is a data-quality finding. */
  min?: number;
  max?: number;
  /** Whole numbers only (counts). */
  integer?: boolean;
}

export interface CategoricalColumnSpec {
  name: string;
  type: 'categorical';
  description?: string;
  /** Every allowed category, in the order of the one-hot encoding. */
  categories: string[];
}

export type ColumnSpec = NumericColumnSpec | CategoricalColumnSpec;

export interface QualityThresholds {
  /** Fewer usable rows than this blocks training. Default 50. */
  minRows?: number;
  /** Share of rows with a missing feature or target above which training is blocked (below it, those rows are dropped). Default 0. */
  maxMissingRatio?: number;
  /** Share of rows with a value outside declared bounds / an unknown category tolerated (dropped). Default 0. */
  maxInvalidRatio?: number;
  /** Share of exact duplicate rows above which training is blocked. Default 0.05. */
  maxDuplicateRatio?: number;
  /** The rarest class must make up at least this share of rows. Default 0.01. */
  minClassRatio?: number;
}

export interface DatasetSpec {
  name: string;
  description?: string;
  features: ColumnSpec[];
  /** The target column. */
  target: string;
  /** The label set. Two classes ⇒ binary task. The order is the column order of `probabilities`. */
  classes: string[];
  /** Binary only: the class whose probability is the score. Default: the second class. */
  positiveClass?: string;
  quality?: QualityThresholds;
  /** The metric that the registry's promotion gate compares (higher is better). */
  primaryMetric: MetricName;
  /** Test-split minimums: training fails when any is not reached. */
  metricThresholds?: Partial<Record<MetricName, number>>;
}

export const METRIC_NAMES = [
  'accuracy',
  'balanced_accuracy',
  'macro_precision',
  'macro_recall',
  'macro_f1',
  'roc_auc',
] as const;
export type MetricName = (typeof METRIC_NAMES)[number];

/** One data row: feature name → value (numbers for numeric features, strings for categorical ones). */
export type FeatureValue = number | string;
export type Row = Record<string, FeatureValue>;

/** A labelled row, as used by training: `label` is one of `spec.classes`. */
export interface LabelledRow {
  features: Row;
  label: string;
}

export interface Dataset {
  spec: DatasetSpec;
  rows: LabelledRow[];
}

export const DEFAULT_QUALITY: Required<QualityThresholds> = {
  minRows: 50,
  maxMissingRatio: 0,
  maxInvalidRatio: 0,
  maxDuplicateRatio: 0.05,
  minClassRatio: 0.01,
};

export function qualityThresholds(spec: DatasetSpec): Required<QualityThresholds> {
  return { ...DEFAULT_QUALITY, ...spec.quality };
}

export function positiveClassOf(spec: DatasetSpec): string | undefined {
  if (spec.classes.length !== 2) return undefined;
  return spec.positiveClass ?? spec.classes[1];
}

/** Checks a spec read from JSON; throws INVALID_INPUT listing every problem. */
export function parseDatasetSpec(value: unknown): DatasetSpec {
  const problems: string[] = [];
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObject(value)) throw new AppError('INVALID_INPUT', 'Dataset spec must be a JSON object');
  const spec = value as Partial<DatasetSpec> & Record<string, unknown>;
  if (typeof spec.name !== 'string' || !/^[a-z0-9][a-z0-9_-]*$/i.test(spec.name)) {
    problems.push('name: required, letters, digits, "_" or "-"');
  }
  if (typeof spec.target !== 'string' || spec.target === '') problems.push('target: required column name');
  if (
    !Array.isArray(spec.classes) ||
    spec.classes.length < 2 ||
    !spec.classes.every((c) => typeof c === 'string')
  ) {
    problems.push('classes: at least two class labels (strings)');
  } else if (new Set(spec.classes).size !== spec.classes.length) {
    problems.push('classes: duplicate labels');
  }
  if (spec.positiveClass !== undefined && !(spec.classes ?? []).includes(spec.positiveClass)) {
    problems.push('positiveClass: must be one of classes');
  }
  if (!Array.isArray(spec.features) || spec.features.length === 0) {
    problems.push('features: at least one feature');
  } else {
    const seen = new Set<string>();
    spec.features.forEach((feature: unknown, index) => {
      if (!isObject(feature) || typeof feature.name !== 'string' || feature.name === '') {
        problems.push(`features[${index}]: needs a name`);
        return;
      }
      const name = feature.name;
      if (!/^[A-Za-z_][A-Za-z0-9_.]*$/.test(name)) {
        problems.push(`features[${index}] "${name}": name must be an identifier (it becomes an ONNX input)`);
      }
      if (seen.has(name)) problems.push(`features[${index}] "${name}": duplicate name`);
      seen.add(name);
      if (name === spec.target) problems.push(`features[${index}] "${name}": is the target column`);
      if (feature.type === 'numeric') {
        for (const bound of ['min', 'max'] as const) {
          if (feature[bound] !== undefined && typeof feature[bound] !== 'number') {
            problems.push(`features[${index}] "${name}": ${bound} must be a number`);
          }
        }
        if (typeof feature.min === 'number' && typeof feature.max === 'number' && feature.min > feature.max) {
          problems.push(`features[${index}] "${name}": min > max`);
        }
      } else if (feature.type === 'categorical') {
        const categories = feature.categories;
        if (
          !Array.isArray(categories) ||
          categories.length === 0 ||
          !categories.every((c) => typeof c === 'string')
        ) {
          problems.push(`features[${index}] "${name}": categories must be a non-empty list of strings`);
        } else if (new Set(categories).size !== categories.length) {
          problems.push(`features[${index}] "${name}": duplicate categories`);
        }
      } else {
        problems.push(`features[${index}] "${name}": type must be "numeric" or "categorical"`);
      }
    });
  }
  if (
    typeof spec.primaryMetric !== 'string' ||
    !(METRIC_NAMES as readonly string[]).includes(spec.primaryMetric)
  ) {
    problems.push(`primaryMetric: one of ${METRIC_NAMES.join(', ')}`);
  }
  if (spec.metricThresholds !== undefined) {
    if (!isObject(spec.metricThresholds)) problems.push('metricThresholds: an object metric → minimum');
    else {
      for (const [metric, minimum] of Object.entries(spec.metricThresholds)) {
        if (!(METRIC_NAMES as readonly string[]).includes(metric))
          problems.push(`metricThresholds.${metric}: unknown metric`);
        if (typeof minimum !== 'number') problems.push(`metricThresholds.${metric}: must be a number`);
      }
    }
  }
  if (spec.quality !== undefined && !isObject(spec.quality))
    problems.push('quality: an object of thresholds');
  if (problems.length > 0) {
    throw new AppError('INVALID_INPUT', `Invalid dataset spec: ${problems.join('; ')}`, problems);
  }
  return spec as DatasetSpec;
}
