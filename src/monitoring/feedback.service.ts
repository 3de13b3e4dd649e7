import { Injectable } from '@nestjs/common';
import { AppError, type FieldProblem, InvalidInputError } from '../common/errors';
import { AppConfig } from '../config/config';
import { RegistryService } from '../registry/registry.service';
import { Metrics } from '../telemetry/metrics';
import { type FeedbackItem, parseFeedbackBody } from './domain/feedback-input';
import { PredictionRecorder } from './prediction-recorder.service';
import { type FeedbackStatus, type PredictionKey, PredictionStore } from './prediction.store';

export interface FeedbackResult {
  predictionId: string;
  model: string;
  version: number;
  label: string;
  status: FeedbackStatus;
}

export interface FeedbackResponse {
  results: FeedbackResult[];
  created: number;
  updated: number;
  unchanged: number;
}

/** Told about new ground truth (the retraining trigger counts it). */
export type FeedbackListener = (model: string, newLabels: number) => void;

/**
 * Ground-truth labels for stored predictions. A prediction may still be in the recorder's queue
 * when its feedback arrives; a lookup miss flushes the queue once before answering 404.
 */
@Injectable()
export class FeedbackService {
  private readonly listeners = new Set<FeedbackListener>();
  private readonly classesCache = new Map<string, readonly string[]>();

  constructor(
    private readonly store: PredictionStore,
    private readonly recorder: PredictionRecorder,
    private readonly registry: RegistryService,
    private readonly metrics: Metrics,
    private readonly config: AppConfig,
  ) {}

  onFeedback(listener: FeedbackListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async submit(body: unknown): Promise<FeedbackResponse> {
    const { items, problems } = parseFeedbackBody(body, this.config.MAX_INSTANCES_PER_REQUEST);
    if (problems.length > 0) throw new InvalidInputError(problems);

    let resolved = await this.resolve(items);
    if (resolved.some((key) => key === undefined)) {
      await this.recorder.flushNow(2000);
      resolved = await this.resolve(items);
    }
    const missing = items.filter((_, index) => resolved[index] === undefined);
    if (missing.length > 0) {
      throw new AppError(
        'PREDICTION_NOT_FOUND',
        `No stored prediction for ${missing
          .slice(0, 5)
          .map((item) =>
            item.predictionId ? `predictionId "${item.predictionId}"` : `requestId "${item.requestId}"`,
          )
          .join(', ')}${missing.length > 5 ? ` and ${missing.length - 5} more` : ''}`,
        { missing: missing.map((item) => item.predictionId ?? item.requestId) },
      );
    }
    const keys = resolved as (PredictionKey | 'ambiguous')[];
    const labelProblems: FieldProblem[] = [];
    const prefix = (index: number): string =>
      items.length > 1 || 'feedback' in (body as object) ? `feedback[${index}].` : '';
    for (let index = 0; index < items.length; index += 1) {
      const key = keys[index]!;
      const item = items[index]!;
      if (key === 'ambiguous') {
        labelProblems.push({
          field: `${prefix(index)}requestId`,
          problem: `request "${item.requestId}" made several predictions: give the predictionId instead`,
        });
        continue;
      }
      const classes = await this.classesOf(key.model, key.version);
      if (!classes.includes(item.label))
        labelProblems.push({
          field: `${prefix(index)}label`,
          problem: `"${item.label}" is not a class of ${key.model} v${key.version} (${classes.join(', ')})`,
        });
    }
    if (labelProblems.length > 0) throw new InvalidInputError(labelProblems);

    const rows = items.map((item, index) => {
      const key = keys[index] as PredictionKey;
      return {
        predictionId: key.predictionId,
        model: key.model,
        version: key.version,
        actual: item.label,
        predictionTimestamp: key.timestamp,
      };
    });
    const statuses = await this.store.upsertFeedback(rows, Date.now());
    const results = rows.map((row, index) => ({
      predictionId: row.predictionId,
      model: row.model,
      version: row.version,
      label: row.actual,
      status: statuses[index]!,
    }));
    const newLabels = new Map<string, number>();
    for (const result of results) {
      if (result.status === 'unchanged') continue;
      this.metrics.feedback.inc({ model: result.model, version: String(result.version) });
      if (result.status === 'created') newLabels.set(result.model, (newLabels.get(result.model) ?? 0) + 1);
    }
    for (const [model, count] of newLabels) for (const listener of this.listeners) listener(model, count);
    return {
      results,
      created: statuses.filter((status) => status === 'created').length,
      updated: statuses.filter((status) => status === 'updated').length,
      unchanged: statuses.filter((status) => status === 'unchanged').length,
    };
  }

  /** A prediction per item, `undefined` when unknown, `'ambiguous'` for a multi-instance request id. */
  private async resolve(
    items: readonly FeedbackItem[],
  ): Promise<(PredictionKey | 'ambiguous' | undefined)[]> {
    const ids = [...new Set(items.flatMap((item) => (item.predictionId ? [item.predictionId] : [])))];
    const byId = new Map((await this.store.findPredictions(ids)).map((key) => [key.predictionId, key]));
    const byRequest = new Map<string, PredictionKey | 'ambiguous' | undefined>();
    for (const item of items) {
      if (!item.requestId || byRequest.has(item.requestId)) continue;
      const found = await this.store.findByRequestId(item.requestId, 2);
      byRequest.set(item.requestId, found.length > 1 ? 'ambiguous' : found[0]);
    }
    return items.map((item) =>
      item.predictionId !== undefined ? byId.get(item.predictionId) : byRequest.get(item.requestId),
    );
  }

  private async classesOf(model: string, version: number): Promise<readonly string[]> {
    const cacheKey = `${model}@${version}`;
    let classes = this.classesCache.get(cacheKey);
    if (!classes) {
      classes = (await this.registry.getVersion(model, version)).signature.classes;
      this.classesCache.set(cacheKey, classes);
    }
    return classes;
  }
}
