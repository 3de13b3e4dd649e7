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
import { PredictAnswer } from './predict-answer';
import { PredictionBatch, PredictionEvents } from './prediction-events';

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
   * The store keeps each request's instances text (the batch's `inputsJson`): only worth scanning when
   * it is on and no privacy rule rewrites the inputs (the recorder then serialises the rewritten rows).
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
  ): Promise<PredictAnswer> {
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
  ): Promise<PredictAnswer> {
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
  ): Promise<PredictAnswer> {
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
  ): Promise<PredictAnswer> {
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
          // `jsonText` is the text JSON.parse read the body from (json-body.ts), so the fast path holds.
          const inputsJson =
            this.keepRequestInputs && jsonText !== undefined
              ? instancesJson(jsonText, flat, true)
              : undefined;
          return this.answer(
            model,
            rows,
            offset,
            run.output,
            outOfRange,
            requestId,
            startedAt,
            parent,
            inputsJson,
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
    inputsJson: string | undefined,
  ): PredictAnswer {
    const count = rows.length;
    const classCount = model.classes.length;
    const metrics = model.metrics;
    const recordMetrics = model.recordMetrics;
    const timestamp = Date.now();
    const id = timeOrderedId(timestamp);
    // This request's rows of the micro-batch's output: a view (onnxruntime allocates outputs per run).
    const probabilities = output.probabilities.subarray(offset * classCount, (offset + count) * classCount);
    const labels = output.labels.slice(offset, offset + count);
    let scores: Float32Array | undefined;
    if (model.positiveIndex >= 0) {
      scores = new Float32Array(count);
      for (let row = 0; row < count; row++) {
        const score = probabilities[row * classCount + model.positiveIndex]!;
        scores[row] = score;
        if (recordMetrics) metrics.score.observe(score);
      }
    }
    let warnings: (RangeWarning[] | undefined)[] | undefined;
    let flaggedFeatures: (string[] | undefined)[] | undefined;
    if (outOfRange !== undefined) {
      const { rangeWarnings, featureNames } = model.validator;
      warnings = new Array<RangeWarning[] | undefined>(count);
      flaggedFeatures = new Array<string[] | undefined>(count);
      for (let row = 0; row < count; row++) {
        const flagged = outOfRange[row];
        if (flagged === undefined) continue;
        warnings[row] = flagged.map((feature) => rangeWarnings[feature]!);
        flaggedFeatures[row] = flagged.map((feature) => featureNames[feature]!);
        if (recordMetrics) for (const feature of flagged) metrics.outOfRangeByFeature[feature]!.inc();
      }
    }
    if (recordMetrics) {
      const counts = model.classCounts;
      for (const label of labels) {
        const classIndex = model.classIndex.get(label);
        if (classIndex !== undefined) counts[classIndex]!++;
      }
      for (let index = 0; index < classCount; index++) {
        if (counts[index]! > 0) {
          metrics.predictionsByClass[index]!.inc(counts[index]);
          counts[index] = 0;
        }
      }
    }
    const batch = new PredictionBatch({
      // A request of one row is batch `<id>-0`, the id of its one prediction; else rows are `<id>-<row>`.
      batchId: count === 1 ? `${id}-0` : id,
      requestId,
      traceId: parent?.spanContext().traceId,
      timestamp,
      model: model.name,
      version: model.version,
      latencyMs: performance.now() - startedAt,
      inputs: rows as Record<string, number | string>[],
      labels,
      probabilities,
      classCount,
      scores,
      outOfRange: flaggedFeatures,
      inputsJson,
    });
    this.events.emit(batch);
    return new PredictAnswer(batch, model.classes, warnings);
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
