import { AppError } from '../common/errors';
import type { Dataset, LabelledRow } from '../training/domain/dataset-spec';
import { SeededRandom } from '../training/domain/random';
import { generateCredit } from '../training/datasets/credit.dataset';
import { loadIris } from '../training/datasets/iris.dataset';

/**
 * The drift simulation (`vigil simulate`): realistic traffic to a running server, sampled from the
 * dataset generator, optionally shifted (`income=-0.3`: every value × 0.7), with ground-truth
 * feedback for a share of the predictions, so that drift, quality and retraining can be watched
 * in Grafana. The true labels are the generator's, from the unshifted applicant: a shifted feature
 * then no longer means what it meant in training, which is what real drift does to a model.
 */
export interface SimulationOptions {
  server: string;
  model: string;
  requests: number;
  /** Feature → relative change for numeric features (−0.3 = 30 % lower). */
  shift: Record<string, number>;
  /** Share of predictions that get feedback, 0…1. */
  feedbackRate: number;
  concurrency: number;
  seed: number;
  /** Instances per prediction request (1 keeps feedback by request id possible). */
  batchSize: number;
  /** Feedback is sent in batches of this many labels. */
  feedbackBatch: number;
  onProgress?: (done: number, total: number) => void;
}

export interface SimulationSummary {
  requests: number;
  predictions: number;
  failedRequests: number;
  feedbackSent: number;
  failedFeedback: number;
  versions: Record<string, number>;
  latencyMs: { p50: number; p99: number; max: number };
  seconds: number;
}

export const SIMULATION_DEFAULTS = {
  requests: 1000,
  feedbackRate: 0.5,
  concurrency: 8,
  seed: 1,
  batchSize: 1,
  feedbackBatch: 100,
} as const;

/** `income=-0.3,age=0.1` → { income: -0.3, age: 0.1 }. */
export function parseShift(specs: readonly string[]): Record<string, number> {
  const shift: Record<string, number> = {};
  for (const spec of specs.flatMap((value) => value.split(','))) {
    if (spec.trim() === '') continue;
    const match = /^\s*([\w.-]+)\s*=\s*([-+]?\d*\.?\d+(?:e[-+]?\d+)?)\s*$/i.exec(spec);
    if (!match)
      throw new AppError(
        'INVALID_INPUT',
        `--shift expects feature=fraction (e.g. income=-0.3), got "${spec}"`,
      );
    const fraction = Number(match[2]);
    if (fraction <= -1) throw new AppError('INVALID_INPUT', `--shift ${match[1]}: a fraction must be > -1`);
    shift[match[1]!] = fraction;
  }
  return shift;
}

/** Rows to send: fresh applicants from the generator (credit), or resampled rows (iris). */
export function sampleRows(dataset: string, count: number, seed: number): LabelledRow[] {
  if (dataset === 'credit') return generateCredit({ rows: count, seed: 1_000_003 + seed }).rows;
  let source: Dataset;
  if (dataset === 'iris') source = loadIris();
  else throw new AppError('INVALID_INPUT', `No data generator for "${dataset}" (built-in: credit, iris)`);
  const random = new SeededRandom(seed);
  return Array.from({ length: count }, () => source.rows[random.int(source.rows.length)]!);
}

/** Applies the relative shift to numeric features; unknown or categorical features are refused. */
export function shiftRow(
  features: Record<string, number | string>,
  shift: Record<string, number>,
): Record<string, number | string> {
  const shifted = { ...features };
  for (const [feature, fraction] of Object.entries(shift)) {
    const value = shifted[feature];
    if (typeof value !== 'number')
      throw new AppError('INVALID_INPUT', `--shift ${feature}: not a numeric feature of this dataset`);
    shifted[feature] = Number((value * (1 + fraction)).toPrecision(8));
  }
  return shifted;
}

/** Feature aliases people type (`income` for `annual_income`). */
export function resolveShiftFeatures(
  shift: Record<string, number>,
  features: readonly string[],
): Record<string, number> {
  const resolved: Record<string, number> = {};
  for (const [name, fraction] of Object.entries(shift)) {
    const match = features.includes(name)
      ? name
      : features.filter((feature) => feature.split('_').includes(name));
    if (typeof match === 'string') resolved[match] = fraction;
    else if (match.length === 1) resolved[match[0]!] = fraction;
    else
      throw new AppError(
        'INVALID_INPUT',
        `--shift ${name}: ${match.length === 0 ? 'no such feature' : `ambiguous (${match.join(', ')})`}; features: ${features.join(', ')}`,
      );
  }
  return resolved;
}

function percentile(sorted: readonly number[], level: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(level * sorted.length))]!;
}

interface PredictResponseBody {
  version: number;
  requestId: string;
  predictions: { predictionId: string }[];
}

export async function runSimulation(options: SimulationOptions): Promise<SimulationSummary> {
  const base = options.server.replace(/\/+$/, '');
  const modelResponse = await fetch(
    `${base}/v1/models/${encodeURIComponent(options.model)}/versions/production`,
  ).catch((error: unknown) => {
    throw new AppError(
      'DEPENDENCY_UNAVAILABLE',
      `Cannot reach ${base}: ${error instanceof Error ? error.message : String(error)}`,
    );
  });
  if (!modelResponse.ok)
    throw new AppError(
      modelResponse.status === 404 ? 'MODEL_NOT_FOUND' : 'DEPENDENCY_UNAVAILABLE',
      `GET production version of "${options.model}": HTTP ${modelResponse.status}`,
    );
  const production = (await modelResponse.json()) as {
    signature: { name: string; features: { name: string }[] };
  };
  const featureNames = production.signature.features.map((feature) => feature.name);
  const shift = resolveShiftFeatures(options.shift, featureNames);
  const rows = sampleRows(production.signature.name, options.requests * options.batchSize, options.seed);
  const random = new SeededRandom(options.seed + 17);

  const summary: SimulationSummary = {
    requests: 0,
    predictions: 0,
    failedRequests: 0,
    feedbackSent: 0,
    failedFeedback: 0,
    versions: {},
    latencyMs: { p50: 0, p99: 0, max: 0 },
    seconds: 0,
  };
  const latencies: number[] = [];
  let pendingFeedback: { predictionId: string; label: string }[] = [];
  const started = Date.now();

  const flushFeedback = async (force: boolean): Promise<void> => {
    if (pendingFeedback.length === 0 || (!force && pendingFeedback.length < options.feedbackBatch)) return;
    const batch = pendingFeedback;
    pendingFeedback = [];
    const response = await fetch(`${base}/v1/feedback`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ feedback: batch }),
    }).catch(() => undefined);
    if (response?.ok) summary.feedbackSent += batch.length;
    else summary.failedFeedback += batch.length;
  };

  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < options.requests) {
      const index = next;
      next += 1;
      const instances = rows.slice(index * options.batchSize, (index + 1) * options.batchSize);
      const sentAt = performance.now();
      const response = await fetch(`${base}/v1/models/${encodeURIComponent(options.model)}/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ instances: instances.map((row) => shiftRow(row.features, shift)) }),
      }).catch(() => undefined);
      latencies.push(performance.now() - sentAt);
      summary.requests += 1;
      if (!response?.ok) {
        summary.failedRequests += 1;
        continue;
      }
      const body = (await response.json()) as PredictResponseBody;
      summary.predictions += body.predictions.length;
      summary.versions[String(body.version)] = (summary.versions[String(body.version)] ?? 0) + 1;
      body.predictions.forEach((prediction, position) => {
        if (random.next() < options.feedbackRate)
          pendingFeedback.push({ predictionId: prediction.predictionId, label: instances[position]!.label });
      });
      await flushFeedback(false);
      options.onProgress?.(summary.requests, options.requests);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, () => worker()));
  await flushFeedback(true);
  latencies.sort((a, b) => a - b);
  summary.latencyMs = {
    p50: Number(percentile(latencies, 0.5).toFixed(2)),
    p99: Number(percentile(latencies, 0.99).toFixed(2)),
    max: Number((latencies.at(-1) ?? 0).toFixed(2)),
  };
  summary.seconds = (Date.now() - started) / 1000;
  return summary;
}
