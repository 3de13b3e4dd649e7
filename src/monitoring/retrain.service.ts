import { randomUUID } from 'node:crypto';
import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { AppError } from '../common/errors';
import { EventLoopSlicer, runInSlices } from '../common/event-loop-slicer';
import type { ModelSignature } from '../common/signature';
import { AppConfig } from '../config/config';
import { SqlDatabase } from '../database/sql-database';
import { allocateColumns } from '../inference/column-buffers';
import { OnnxModelSession } from '../inference/onnx-session.adapter';
import type { ModelVersion } from '../registry/domain/model-version';
import { RegistryService } from '../registry/registry.service';
import { AppLogger } from '../telemetry/logger';
import { Metrics } from '../telemetry/metrics';
import { evaluateClassification } from '../training/domain/metrics';
import type { LabelledRow } from '../training/domain/dataset-spec';
import { BUILT_IN_DATASETS } from '../training/datasets/dataset.loader';
import type { Evaluation } from './domain/evaluation';
import {
  MIN_LABELLED_FOR_QUALITY,
  type RetrainSettings,
  type RetrainTrigger,
  algorithmOf,
  challenge,
  evaluationTrigger,
  retrainHyperParameters,
  splitHoldout,
  trainingRowsSteps,
} from './domain/retrain-policy';
import { FeedbackService } from './feedback.service';
import { MonitoringService } from './monitoring.service';
import { PredictionStore } from './prediction.store';
import { type RetrainJob, RetrainStore } from './retrain.store';
import { TRAINING_TIMEOUT_MS, TrainingProcess } from './training-process.adapter';

/** The newest labelled production rows a run may use. */
export const MAX_PRODUCTION_ROWS = 50_000;
const SCORING_BATCH_ROWS = 1024;
export const RETRAIN_ACTOR = 'monitoring:retrain';

export interface RetrainStatusResponse {
  model: string;
  running: RetrainJob | null;
  jobs: RetrainJob[];
  triggers: RetrainSettings;
}

/**
 * Retraining: on request (admin) or on a trigger (every k feedback rows, dataset drift, live quality
 * below a threshold), one run at a time (in this process, and across replicas through an advisory
 * lock). A run trains in a child process on the training data plus the labelled production rows,
 * registers the result in Staging with lineage, compares it with Production on a holdout scored
 * by ONNX Runtime, and promotes it only if it passes; the serving hot swap follows the registry.
 * Automatic drift / quality triggers fire once per Production version (no retrain loop when a run
 * does not promote).
 */
@Injectable()
export class RetrainService implements OnModuleInit, OnModuleDestroy {
  private running: { job: RetrainJob; done: Promise<void> } | undefined;
  /** Set from the first check of `start` until the run ends: one run at a time in this process. */
  private busy = false;
  private readonly unsubscribe: (() => void)[] = [];
  private readonly feedbackSinceRetrain = new Map<string, number>();
  /** `${model}@${version}:${trigger}` already acted on. */
  private readonly firedFor = new Set<string>();
  private readonly settings: RetrainSettings;

  constructor(
    private readonly registry: RegistryService,
    private readonly predictions: PredictionStore,
    private readonly store: RetrainStore,
    private readonly training: TrainingProcess,
    private readonly monitoring: MonitoringService,
    private readonly feedback: FeedbackService,
    private readonly database: SqlDatabase,
    private readonly metrics: Metrics,
    private readonly config: AppConfig,
    private readonly logger: AppLogger,
  ) {
    this.settings = {
      everyFeedback: config.RETRAIN_EVERY_FEEDBACK,
      onDrift: config.RETRAIN_ON_DRIFT,
      qualityThreshold: config.RETRAIN_QUALITY_THRESHOLD,
      minLabelledForQuality: MIN_LABELLED_FOR_QUALITY,
    };
  }

  async onModuleInit(): Promise<void> {
    this.unsubscribe.push(this.feedback.onFeedback((model, count) => this.onFeedback(model, count)));
    this.unsubscribe.push(
      this.monitoring.onEvaluation((evaluation, production) => this.onEvaluation(evaluation, production)),
    );
    await this.store.failStale(TRAINING_TIMEOUT_MS).catch(() => 0);
  }

  onModuleDestroy(): void {
    for (const unsubscribe of this.unsubscribe) unsubscribe();
  }

  /** Waits for the run in progress, if any (tests, shutdown). */
  async idle(): Promise<void> {
    await this.running?.done;
  }

  async status(model: string): Promise<RetrainStatusResponse> {
    await this.registry.getModel(model);
    const jobs = await this.store.list(model, 10);
    return {
      model,
      running: jobs.find((job) => job.status === 'running') ?? null,
      jobs,
      triggers: this.settings,
    };
  }

  /**
   * Starts a run and returns at once with the job (status `running`); 409 CONFLICT when a run is
   * already in progress here or on another replica.
   */
  async start(model: string, trigger: RetrainTrigger, reason?: string): Promise<RetrainJob> {
    if (this.busy)
      throw new AppError(
        'CONFLICT',
        `A retraining run is in progress${this.running ? ` (${this.running.job.model}, job ${this.running.job.jobId})` : ''}`,
      );
    this.busy = true;
    try {
      const production = await this.registry.getProductionVersion(model);
      if (!(BUILT_IN_DATASETS as readonly string[]).includes(production.signature.name))
        throw new AppError(
          'INVALID_INPUT',
          `Model "${model}" was trained on "${production.signature.name}", which is not a built-in dataset: Vigil cannot retrain it`,
        );
      const job: RetrainJob = {
        jobId: randomUUID(),
        model,
        trigger,
        status: 'running',
        parentVersion: production.version,
        newVersion: null,
        promoted: false,
        requestedAt: new Date().toISOString(),
        finishedAt: null,
        details: reason ? { reason } : null,
        error: null,
      };
      let confirm!: () => void;
      let refuse!: (error: unknown) => void;
      const started = new Promise<void>((resolve, reject) => {
        confirm = resolve;
        refuse = reject;
      });
      const done = this.database
        .withAdvisoryLock(`vigil:retrain:${model}`, async () => {
          await this.store.start({ jobId: job.jobId, model, trigger, parentVersion: production.version });
          confirm();
          await this.execute(job, production, reason);
        })
        .then(
          (lock) => {
            if (!lock.acquired)
              refuse(
                new AppError('CONFLICT', `A retraining run of "${model}" is in progress on another replica`),
              );
          },
          (error: unknown) => refuse(error),
        );
      this.running = { job, done };
      void done.finally(() => {
        if (this.running?.job === job) this.running = undefined;
        this.busy = false;
      });
      await started;
      this.feedbackSinceRetrain.set(model, 0);
      return job;
    } catch (error) {
      if (!this.running) this.busy = false;
      throw error;
    }
  }

  private async execute(
    job: RetrainJob,
    production: ModelVersion,
    reason: string | undefined,
  ): Promise<void> {
    const { model, trigger } = job;
    const signature = production.signature;
    const log = {
      'event.action': 'retrain',
      'model.name': model,
      'vigil.retrain.job': job.jobId,
      'vigil.retrain.trigger': trigger,
    };
    this.logger.info(`Retraining ${model} (trigger: ${trigger})`, { ...log, 'vigil.retrain.reason': reason });
    const started = Date.now();
    try {
      const slicer = new EventLoopSlicer();
      const stored = await this.predictions.labelledRows(model, MAX_PRODUCTION_ROWS, slicer);
      const { usable, rejected } = await runInSlices(trainingRowsSteps(signature, stored), slicer);
      const { train, holdout } = splitHoldout(usable, signature.seed);
      await slicer.turn();
      if (train.length === 0 && trigger !== 'manual')
        throw new AppError(
          'INVALID_INPUT',
          `No labelled production rows to learn from (${rejected} unusable): send feedback to POST /v1/feedback first`,
        );
      const output = await this.training.run({
        dataset: signature.name,
        algorithm: algorithmOf(signature.family),
        seed: signature.seed,
        hyperParameters: retrainHyperParameters(signature),
        extraRows: train,
      });
      const candidate = await this.registry.registerVersion(
        {
          name: model,
          onnx: Buffer.from(output.onnx),
          signature: output.signature,
          metrics: output.metrics,
          params: Object.fromEntries(
            Object.entries(output.params).filter(([, value]) => Number.isFinite(value)),
          ),
          reference: output.reference,
          parentVersion: production.version,
          description: `Retrained from v${production.version} (${trigger}) with ${train.length} labelled production rows`,
          stage: 'Staging',
          reason: reason ?? `retrain (${trigger})`,
        },
        RETRAIN_ACTOR,
      );
      const holdoutRows: LabelledRow[] = [
        ...holdout,
        ...output.test.rows.map((features, index) => ({ features, label: output.test.actual[index]! })),
      ];
      const metric = signature.primaryMetric;
      const productionBytes = await this.registry.readArtifact(production);
      // Each model scores the whole holdout once; the production rows are its first `holdout.length`.
      const productionScored = await scoreOnHoldout(productionBytes, production.signature, holdoutRows);
      const candidateScored = await scoreOnHoldout(output.onnx, output.signature, holdoutRows);
      // Each metric over 14,000 credit rows is a ~13-ms block: a turn between them.
      const productionScore = productionScored.metric(metric);
      await slicer.turn();
      const candidateScore = candidateScored.metric(metric);
      let productionHoldoutScores: { production: number | null; candidate: number | null } | null = null;
      if (holdout.length > 0) {
        await slicer.turn();
        const productionOnly = productionScored.metric(metric, holdout.length);
        await slicer.turn();
        productionHoldoutScores = {
          production: productionOnly,
          candidate: candidateScored.metric(metric, holdout.length),
        };
      }
      const verdict = challenge(metric, candidateScore, productionScore, this.config.PROMOTION_TOLERANCE);
      const details: Record<string, unknown> = {
        reason: reason ?? null,
        productionRows: { used: train.length, holdout: holdout.length, unusable: rejected },
        holdoutRows: holdoutRows.length,
        challenge: verdict,
        productionHoldoutOnly: productionHoldoutScores,
        candidateTestMetrics: (output.metrics as { test?: unknown }).test ?? null,
        trainingSeconds: (Date.now() - started) / 1000,
      };
      let status: 'promoted' | 'staged' = 'staged';
      if (verdict.passed) {
        try {
          await this.registry.transitionStage(model, candidate.version, 'Production', {
            actor: RETRAIN_ACTOR,
            reason: `retrain (${trigger}): ${verdict.reason}`,
          });
          status = 'promoted';
        } catch (error) {
          details.promotion = error instanceof Error ? error.message : String(error);
        }
      }
      await this.store.finish(job.jobId, { status, newVersion: candidate.version, details });
      this.metrics.retrains.inc({ model, trigger, outcome: status });
      this.logger.info(`Retraining of ${model} done: v${candidate.version} ${status}`, {
        ...log,
        'vigil.retrain.outcome': status,
        'vigil.retrain.new_version': candidate.version,
        'vigil.retrain.challenge': verdict.reason,
      });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      await this.store.finish(job.jobId, { status: 'failed', error: message }).catch(() => undefined);
      this.metrics.retrains.inc({ model, trigger, outcome: 'failed' });
      this.logger.warn(`Retraining of ${model} failed: ${message}`, {
        ...log,
        'vigil.retrain.outcome': 'failed',
      });
    }
  }

  private onFeedback(model: string, newLabels: number): void {
    if (this.settings.everyFeedback <= 0) return;
    const count = (this.feedbackSinceRetrain.get(model) ?? 0) + newLabels;
    this.feedbackSinceRetrain.set(model, count);
    if (count < this.settings.everyFeedback || this.running) return;
    this.autoStart(
      model,
      'feedback',
      `${count} new feedback rows since the last retraining (every ${this.settings.everyFeedback})`,
    );
  }

  private onEvaluation(evaluation: Evaluation, production: ModelVersion): void {
    const fired = evaluationTrigger(evaluation, production.signature.primaryMetric, this.settings);
    if (!fired) return;
    const key = `${production.name}@${production.version}:${fired.trigger}`;
    if (this.firedFor.has(key) || this.running) return;
    this.firedFor.add(key);
    this.autoStart(production.name, fired.trigger, fired.reason);
  }

  private autoStart(model: string, trigger: RetrainTrigger, reason: string): void {
    this.start(model, trigger, reason).catch((error: unknown) => {
      this.logger.warn(`Automatic retraining of ${model} (${trigger}) not started`, {
        'event.action': 'retrain',
        'error.message': error instanceof Error ? error.message : String(error),
      });
    });
  }
}

/** A model's predictions for labelled rows: `metric` scores them, or their first `rows` rows. */
export interface HoldoutScores {
  metric(name: string, rows?: number): number | null;
}

/** Predicts labelled rows with ONNX Runtime (one session, batches of `SCORING_BATCH_ROWS`). */
export async function scoreOnHoldout(
  onnx: Uint8Array,
  signature: ModelSignature,
  rows: readonly LabelledRow[],
): Promise<HoldoutScores> {
  const labels: string[] = [];
  const probabilities: number[][] = [];
  if (rows.length > 0) {
    const session = await OnnxModelSession.load(onnx, signature);
    try {
      const classCount = signature.classes.length;
      const columns = allocateColumns(signature.features, SCORING_BATCH_ROWS);
      for (let start = 0; start < rows.length; start += SCORING_BATCH_ROWS) {
        const batch = rows.slice(start, start + SCORING_BATCH_ROWS);
        signature.features.forEach((feature, index) => {
          const column = columns[index]!;
          batch.forEach((row, rowIndex) => {
            const value = row.features[feature.name];
            if (feature.type === 'numeric') (column as Float32Array)[rowIndex] = Number(value);
            else (column as string[])[rowIndex] = String(value);
          });
        });
        const output = await session.run(columns, batch.length);
        labels.push(...output.labels);
        for (let row = 0; row < batch.length; row += 1)
          probabilities.push(
            Array.from(output.probabilities.subarray(row * classCount, (row + 1) * classCount)),
          );
      }
    } finally {
      await session.release();
    }
  }
  return {
    metric(name, count = rows.length) {
      if (count === 0) return null;
      const report = evaluateClassification({
        classes: signature.classes,
        actual: rows.slice(0, count).map((row) => row.label),
        predicted: labels.slice(0, count),
        probabilities: probabilities.slice(0, count),
        positiveClass: signature.positiveClass,
      });
      return (report.headline as unknown as Record<string, number | null>)[name] ?? null;
    },
  };
}
