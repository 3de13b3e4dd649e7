import { performance } from 'node:perf_hooks';
import { Injectable } from '@nestjs/common';
import { type Context, type Span, trace, type Tracer } from '@opentelemetry/api';
import { AppError, InvalidInputError } from '../common/errors';
import { timeOrderedId } from '../common/time-ordered-id';
import { AppConfig } from '../config/config';
import { ShutdownService } from '../health/shutdown.service';
import type { LoadedModel } from '../inference/loaded-model';
import type { Batch, BatchRun } from '../inference/micro-batcher';
import { ModelPoolService } from '../inference/model-pool.service';
import { PrivacyPolicy } from '../telemetry/privacy';
import type { InferenceOutput } from '../inference/onnx-session.adapter';
import { type RangeWarning, readInstances } from './domain/input-validator';
import { instancesJson } from './domain/instances-json';
import { PredictionEvents, type PredictionRecord } from './prediction-events';

export interface Prediction {
  predictionId: string;
  label: string;
  probabilities: Record<string, number>;
  /** Binary models: P(positive class). */
  score?: number;
  /** Values accepted although outside the training range. */
  warnings?: RangeWarning[];
}

export interface PredictResponse {
  model: string;
  version: number;
  requestId: string;
  predictions: Prediction[];
}

/**
 * The prediction path: pick the loaded version, check and write the rows straight into its micro-batch,
 * await the shared inference call, answer, and hand the records to `PredictionEvents`.
 * Everything model-specific was compiled when the version was loaded (validator, metric series).
 */
@Injectable()
export class PredictionService {
  private readonly tracer: Tracer = trace.getTracer('vigil');
  private readonly maxInstances: number;
  /**
   * The store keeps each request's instances text (`requestInputs`): only worth scanning when it is on
   * and no privacy rule rewrites the inputs (the recorder then serialises the rewritten rows instead).
   */
  private readonly keepRequestInputs: boolean;

  constructor(
    private readonly pool: ModelPoolService,
    private readonly events: PredictionEvents,
    private readonly shutdown: ShutdownService,
    config: AppConfig,
    privacy: PrivacyPolicy,
  ) {
    this.maxInstances = config.MAX_INSTANCES_PER_REQUEST;
    this.keepRequestInputs = config.PREDICTION_STORE_ENABLED && privacy.isNoop;
  }

  /**
   * `POST /v1/models/{name}/predict`: the Production version. `traceContext` is the request's trace
   * (`traceContextOf(request)`): parent of the `predict.*` spans, `trace.id` of the prediction events.
   */
  async predict(
    name: string,
    body: unknown,
    requestId: string,
    traceContext?: Context,
    jsonText?: string,
  ): Promise<PredictResponse> {
    const model = this.pool.getProduction(name) ?? (await this.pool.explainMiss(name));
    return this.execute(model, body, false, requestId, traceContext, jsonText);
  }

  /** `POST /v1/models/{name}/versions/{v}/predict`: any version, loaded on demand. */
  async predictVersion(
    name: string,
    version: string,
    body: unknown,
    requestId: string,
    traceContext?: Context,
    jsonText?: string,
  ): Promise<PredictResponse> {
    if (!/^[1-9]\d{0,8}$/.test(version)) {
      throw new InvalidInputError([{ field: 'version', problem: 'must be a positive integer' }]);
    }
    const model = await this.pool.getVersion(name, Number(version));
    return this.execute(model, body, false, requestId, traceContext, jsonText);
  }

  /** `POST /predict`: the default model, with one flat instance (or an `instances` envelope). */
  async predictDefault(
    name: string,
    body: unknown,
    requestId: string,
    traceContext?: Context,
    jsonText?: string,
  ): Promise<PredictResponse> {
    const model = this.pool.getProduction(name) ?? (await this.pool.explainMiss(name));
    const flat = typeof body === 'object' && body !== null && !Array.isArray(body) && !('instances' in body);
    return this.execute(model, body, flat, requestId, traceContext, jsonText);
  }

  private execute(
    model: LoadedModel,
    body: unknown,
    flat: boolean,
    requestId: string,
    traceContext: Context | undefined,
    jsonText: string | undefined,
  ): Promise<PredictResponse> {
    if (this.shutdown.draining)
      throw new AppError('SHUTTING_DOWN', 'The service is shutting down', undefined, 1);
    const rows = flat ? [body] : readInstances(body, this.maxInstances);
    const startedAt = performance.now();
    // The request's server span comes explicitly (no AsyncLocalStorage: see common/request-context.ts).
    // Child spans only when it is sampled: unsampled requests pay nothing for tracing.
    const parent = traceContext === undefined ? undefined : trace.getSpan(traceContext);
    const traced = parent?.isRecording() === true ? traceContext : undefined;
    model.acquire();
    this.shutdown.enter();
    let submitted: Promise<BatchRun<InferenceOutput>>;
    let batch: Batch<InferenceOutput>;
    let offset: number;
    let outOfRange: (number[] | undefined)[] | undefined;
    try {
      try {
        batch = model.batcher.reserve(rows.length);
      } catch (error) {
        model.metrics.overloaded.inc();
        throw error;
      }
      offset = batch.rows;
      const validateSpan = traced
        ? this.startSpan('predict.validate', model, rows.length, traced)
        : undefined;
      const check = model.validator.checkRows(rows, batch.columns, offset, flat);
      validateSpan?.end();
      if (check.problems.length > 0) {
        model.metrics.invalidInputs.inc();
        throw new InvalidInputError(check.problems);
      }
      outOfRange = check.outOfRange;
      submitted = model.batcher.submit(batch, rows.length);
    } catch (error) {
      this.done(model);
      throw error;
    }
    const queueSpan = traced ? this.startSpan('predict.queue', model, rows.length, traced) : undefined;
    return submitted.then(
      (run) => {
        try {
          if (traced) this.traceInference(model, run, queueSpan!, traced);
          const json =
            this.keepRequestInputs && jsonText !== undefined ? instancesJson(jsonText, flat) : undefined;
          const requestInputs = json === undefined ? undefined : { json, rows: rows.length };
          return this.answer(
            model,
            rows,
            offset,
            run.output,
            outOfRange,
            requestId,
            startedAt,
            parent,
            requestInputs,
          );
        } finally {
          this.done(model);
        }
      },
      (error: unknown) => {
        queueSpan?.end();
        this.done(model);
        throw error;
      },
    );
  }

  private done(model: LoadedModel): void {
    model.release();
    this.shutdown.leave();
  }

  private answer(
    model: LoadedModel,
    rows: readonly unknown[],
    offset: number,
    output: InferenceOutput,
    outOfRange: (number[] | undefined)[] | undefined,
    requestId: string,
    startedAt: number,
    parent: Span | undefined,
    requestInputs: PredictionRecord['requestInputs'],
  ): PredictResponse {
    const classes = model.classes;
    const classCount = classes.length;
    const probabilities = output.probabilities;
    const metrics = model.metrics;
    const recordMetrics = model.recordMetrics;
    const timestamp = Date.now();
    const idPrefix = `${timeOrderedId(timestamp)}-`;
    const latencyMs = performance.now() - startedAt;
    const traceId = parent?.spanContext().traceId;
    const predictions = new Array<Prediction>(rows.length);
    const records = new Array<PredictionRecord>(rows.length);
    for (let row = 0; row < rows.length; row++) {
      const at = offset + row;
      const label = output.labels[at]!;
      const base = at * classCount;
      const byClass: Record<string, number> = {};
      const values = new Array<number>(classCount);
      for (let index = 0; index < classCount; index++) {
        const probability = probabilities[base + index]!;
        byClass[classes[index]!] = probability;
        values[index] = probability;
      }
      const predictionId = idPrefix + String(row);
      const prediction: Prediction = { predictionId, label, probabilities: byClass };
      const record: PredictionRecord = {
        predictionId,
        requestId,
        traceId,
        timestamp,
        model: model.name,
        version: model.version,
        inputs: rows[row] as Record<string, number | string>,
        label,
        probabilities: values,
        latencyMs,
      };
      if (model.positiveIndex >= 0) {
        const score = probabilities[base + model.positiveIndex]!;
        prediction.score = score;
        record.score = score;
        if (recordMetrics) metrics.score.observe(score);
      }
      const flagged = outOfRange?.[row];
      if (flagged !== undefined) {
        prediction.warnings = flagged.map((feature) => model.validator.rangeWarnings[feature]!);
        record.outOfRange = flagged.map((feature) => model.validator.featureNames[feature]!);
        if (recordMetrics) for (const feature of flagged) metrics.outOfRangeByFeature[feature]!.inc();
      }
      if (recordMetrics) {
        const classIndex = model.classIndex.get(label);
        if (classIndex !== undefined) model.classCounts[classIndex]!++;
      }
      predictions[row] = prediction;
      records[row] = record;
    }
    const counts = model.classCounts;
    for (let index = 0; index < classCount; index++) {
      if (counts[index]! > 0) {
        metrics.predictionsByClass[index]!.inc(counts[index]);
        counts[index] = 0;
      }
    }
    if (requestInputs !== undefined && records.length > 0) records[0]!.requestInputs = requestInputs;
    this.events.emit(records);
    return { model: model.name, version: model.version, requestId, predictions };
  }

  private startSpan(name: string, model: LoadedModel, rows: number, parent: Context): Span {
    return this.tracer.startSpan(
      name,
      {
        attributes: {
          'vigil.model.name': model.name,
          'vigil.model.version': model.version,
          'vigil.rows': rows,
        },
      },
      parent,
    );
  }

  /** The batch ran once for many requests: each request's trace gets its own span of that call. */
  private traceInference(
    model: LoadedModel,
    run: BatchRun<InferenceOutput>,
    queueSpan: Span,
    parent: Context,
  ): void {
    queueSpan.end(run.startedAt);
    this.tracer
      .startSpan(
        'predict.inference',
        {
          startTime: run.startedAt,
          attributes: {
            'vigil.model.name': model.name,
            'vigil.model.version': model.version,
            'vigil.batch.size': run.rows,
          },
        },
        parent,
      )
      .end(run.startedAt + run.durationMs);
  }
}
