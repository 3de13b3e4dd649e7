import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { EventLoopSlicer, runInSlices } from '../common/event-loop-slicer';
import type { ReferenceProfile } from '../common/signature';
import { AppConfig } from '../config/config';
import { SqlDatabase } from '../database/sql-database';
import type { ModelVersion } from '../registry/domain/model-version';
import { RegistryService } from '../registry/registry.service';
import { AppLogger } from '../telemetry/logger';
import { Metrics } from '../telemetry/metrics';
import {
  type Evaluation,
  evaluationSteps,
  type PreparedReference,
  referenceSteps,
} from './domain/evaluation';
import { LIVE_QUALITY_METRICS } from './domain/quality';
import { EvaluationStore } from './evaluation.store';
import { PredictionRecorder } from './prediction-recorder.service';
import { PredictionStore } from './prediction.store';

export type EvaluationListener = (evaluation: Evaluation, production: ModelVersion) => void;

const EMPTY_REFERENCE: ReferenceProfile = {
  schemaVersion: 1,
  rowCount: 0,
  numeric: {},
  categorical: {},
  classBalance: {},
  predictionBalance: {},
  sample: [],
};

/** Gauge `feature` label values for prediction drift (beside the input features). */
export const PREDICTION_LABEL_FEATURE = 'prediction:label';
export const PREDICTION_SCORE_FEATURE = 'prediction:score';

/**
 * The monitoring loop: every EVALUATION_INTERVAL_MS, for each model with a Production version, one
 * replica at a time (advisory lock), evaluate the current window against the version's reference,
 * store the result and set the Prometheus gauges. Reports evaluate on demand through `evaluate`.
 */
@Injectable()
export class MonitoringService implements OnModuleInit, OnModuleDestroy {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private readonly listeners = new Set<EvaluationListener>();
  /** Gauge label sets last written per model, removed before the next write (versions change). */
  private readonly gaugeLabels = new Map<string, { feature: string; method: string; version: string }[]>();
  /** Per model, the reference last prepared and the version it is of (a version's reference never changes). */
  private readonly references = new Map<string, { key: string; reference: PreparedReference }>();

  constructor(
    private readonly registry: RegistryService,
    private readonly store: PredictionStore,
    private readonly history: EvaluationStore,
    private readonly recorder: PredictionRecorder,
    private readonly database: SqlDatabase,
    private readonly metrics: Metrics,
    private readonly config: AppConfig,
    private readonly logger: AppLogger,
  ) {}

  onModuleInit(): void {
    if (this.config.EVALUATION_INTERVAL_MS > 0) {
      this.timer = setInterval(() => void this.runScheduled(), this.config.EVALUATION_INTERVAL_MS);
      this.timer.unref();
    }
  }

  onModuleDestroy(): void {
    this.stopSchedule();
  }

  stopSchedule(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  onEvaluation(listener: EvaluationListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Evaluates a model's Production version (or `version`) on the current window, without storing it. */
  async evaluate(
    model: string,
    version?: number,
  ): Promise<{ evaluation: Evaluation; modelVersion: ModelVersion; referenceRows: number }> {
    const modelVersion =
      version === undefined
        ? await this.registry.getProductionVersion(model)
        : await this.registry.getVersion(model, version);
    // Read and computed in slices: requests keep being served while a window is evaluated.
    const slicer = new EventLoopSlicer();
    const reference = await this.preparedReference(modelVersion, slicer);
    const sinceMs =
      this.config.MONITOR_WINDOW_MINUTES > 0 ? Date.now() - this.config.MONITOR_WINDOW_MINUTES * 60_000 : 0;
    const rows = await this.store.window(
      model,
      modelVersion.version,
      this.config.MONITOR_WINDOW_SIZE,
      sinceMs,
      slicer,
    );
    const steps = evaluationSteps({
      model,
      version: modelVersion.version,
      signature: modelVersion.signature,
      reference,
      trainingMetrics: modelVersion.metrics,
      rows,
      evaluatedAt: Date.now(),
      options: {
        driftShareThreshold: this.config.DRIFT_SHARE_THRESHOLD,
        excludedFeatures: new Set([...this.config.PRIVACY_DROP_FIELDS, ...this.config.PRIVACY_HASH_FIELDS]),
      },
    });
    const evaluation = await runInSlices(steps, slicer);
    return { evaluation, modelVersion, referenceRows: reference.rowCount };
  }

  /**
   * The version's reference profile, prepared for its tests, from the registry the first time only:
   * parsing it (1.29 MB of JSON for credit, one block of 5–10 ms) and sorting its samples again at
   * every evaluation was a fixed cost of each one.
   */
  private async preparedReference(
    modelVersion: ModelVersion,
    slicer: EventLoopSlicer,
  ): Promise<PreparedReference> {
    const key = `${modelVersion.version}:${modelVersion.sha256}:${modelVersion.createdAt}`;
    const cached = this.references.get(modelVersion.name);
    if (cached?.key === key) return cached.reference;
    const profile =
      (await this.registry.getReference(modelVersion.name, modelVersion.version)) ?? EMPTY_REFERENCE;
    const reference = await runInSlices(referenceSteps(modelVersion.signature, profile), slicer);
    this.references.set(modelVersion.name, { key, reference });
    return reference;
  }

  /** One scheduled round over every Production model; concurrent calls share the round. */
  runScheduled(): Promise<void> {
    if (!this.running) {
      this.running = this.round().finally(() => {
        this.running = undefined;
      });
    }
    return this.running;
  }

  /** Evaluates, stores, publishes: what a scheduled round does for one model (also `vigil evaluate`). */
  async evaluateAndRecord(model: string): Promise<Evaluation | null> {
    const locked = await this.database.withAdvisoryLock(`vigil:monitoring:evaluate:${model}`, async () => {
      const { evaluation, modelVersion } = await this.evaluate(model);
      await this.history.insert(evaluation);
      this.publish(evaluation, modelVersion);
      return { evaluation, modelVersion };
    });
    if (!locked.acquired) {
      this.metrics.evaluations.inc({ model, outcome: 'skipped' });
      return null;
    }
    this.metrics.evaluations.inc({ model, outcome: 'ok' });
    this.metrics.lastEvaluation.set({ model }, locked.value.evaluation.evaluatedAt / 1000);
    for (const listener of this.listeners) {
      try {
        listener(locked.value.evaluation, locked.value.modelVersion);
      } catch (error) {
        this.logger.warn('Evaluation listener failed', { 'error.message': String(error) });
      }
    }
    return locked.value.evaluation;
  }

  private async round(): Promise<void> {
    await this.recorder.flushNow(2000);
    let models: ModelVersion[];
    try {
      models = await this.registry.listProductionVersions();
    } catch (error) {
      this.logger.warn('Monitoring evaluation skipped: the registry is unavailable', {
        'event.action': 'monitoring-evaluate',
        'error.message': error instanceof Error ? error.message : String(error),
      });
      return;
    }
    for (const production of models) {
      try {
        await this.evaluateAndRecord(production.name);
      } catch (error) {
        this.metrics.evaluations.inc({ model: production.name, outcome: 'failed' });
        this.logger.warn(`Monitoring evaluation of ${production.name} failed`, {
          'event.action': 'monitoring-evaluate',
          'model.name': production.name,
          'error.message': error instanceof Error ? error.message : String(error),
        });
      }
    }
    await this.history
      .deleteOlderThan(Date.now() - this.config.PREDICTION_RETENTION_DAYS * 86_400_000)
      .catch(() => undefined);
  }

  /** Sets the drift and quality gauges of one model to this evaluation (stale series removed). */
  publish(evaluation: Evaluation, modelVersion: ModelVersion): void {
    const model = evaluation.model;
    const version = String(evaluation.version);
    for (const labels of this.gaugeLabels.get(model) ?? []) {
      this.metrics.driftScore.remove({ model, ...labels });
      this.metrics.featureDrifted.remove({ model, version: labels.version, feature: labels.feature });
    }
    const previousVersion = this.gaugeLabels.get(model)?.[0]?.version;
    if (previousVersion !== undefined && previousVersion !== version) {
      this.metrics.datasetDriftShare.remove({ model, version: previousVersion });
      this.metrics.driftDetected.remove({ model, version: previousVersion });
      for (const metric of LIVE_QUALITY_METRICS)
        this.metrics.liveQuality.remove({ model, version: previousVersion, metric });
    }
    const written: { feature: string; method: string; version: string }[] = [];
    const features = [
      ...(evaluation.drift?.features ?? []),
      ...(evaluation.predictionDrift.label
        ? [{ ...evaluation.predictionDrift.label, feature: PREDICTION_LABEL_FEATURE }]
        : []),
      ...(evaluation.predictionDrift.score
        ? [{ ...evaluation.predictionDrift.score, feature: PREDICTION_SCORE_FEATURE }]
        : []),
    ];
    for (const feature of features) {
      this.metrics.driftScore.set(
        { model, version, feature: feature.feature, method: feature.method },
        feature.score,
      );
      this.metrics.driftScore.set({ model, version, feature: feature.feature, method: 'psi' }, feature.psi);
      this.metrics.featureDrifted.set({ model, version, feature: feature.feature }, feature.drifted ? 1 : 0);
      written.push({ feature: feature.feature, method: feature.method, version });
      written.push({ feature: feature.feature, method: 'psi', version });
    }
    if (written.length === 0) written.push({ feature: '', method: '', version });
    this.gaugeLabels.set(model, written);
    if (evaluation.drift) {
      this.metrics.datasetDriftShare.set({ model, version }, evaluation.drift.driftShare);
      this.metrics.driftDetected.set({ model, version }, evaluation.drift.datasetDrift ? 1 : 0);
    }
    for (const metric of LIVE_QUALITY_METRICS) {
      const value = evaluation.quality?.metrics[metric];
      if (value === null || value === undefined) this.metrics.liveQuality.remove({ model, version, metric });
      else this.metrics.liveQuality.set({ model, version, metric }, value);
    }
    for (const [metric, value] of Object.entries(modelVersion.metrics)) {
      // `rows` is the size of the test split, not a quality.
      if (metric !== 'rows' && Number.isFinite(value))
        this.metrics.trainingQuality.set({ model, version, metric }, value);
    }
  }
}
