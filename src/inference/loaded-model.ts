import type { Counter, Gauge } from 'prom-client';
import type { ModelSignature } from '../common/signature';
import { InputValidator } from '../prediction/domain/input-validator';
import type { ModelVersion } from '../registry/domain/model-version';
import {
  type CounterSeries,
  counterSeries,
  type HistogramSeries,
  histogramSeries,
} from '../telemetry/bound-series';
import type { Metrics } from '../telemetry/metrics';
import { allocateColumns } from './column-buffers';
import { type BatcherOptions, type BatchObserver, MicroBatcher } from './micro-batcher';
import type { InferenceOutput, OnnxModelSession } from './onnx-session.adapter';

type CounterChild = ReturnType<Counter['labels']>;
type GaugeChild = ReturnType<Gauge['labels']>;

/** Metric series of one loaded version, bound once at load: no label lookups per request. */
export class ModelMetrics implements BatchObserver {
  readonly predictionsByClass: CounterSeries[];
  readonly outOfRangeByFeature: CounterSeries[];
  readonly score: HistogramSeries;
  readonly invalidInputs: CounterChild;
  readonly overloaded: CounterChild;
  private readonly inferenceDuration: HistogramSeries;
  private readonly queueWait: HistogramSeries;
  private readonly batchSize: HistogramSeries;
  private readonly queueDepthGauge: GaugeChild;

  constructor(
    private readonly metrics: Metrics,
    private readonly name: string,
    private readonly version: string,
    signature: ModelSignature,
    queueCapacity: number,
  ) {
    this.predictionsByClass = signature.classes.map((label) =>
      counterSeries(metrics.predictions, { model: name, version, label }),
    );
    this.outOfRangeByFeature = signature.features.map((feature) =>
      counterSeries(metrics.inputOutOfRange, { model: name, version, feature: feature.name }),
    );
    this.score = histogramSeries(metrics.predictionScore, { model: name, version });
    this.invalidInputs = metrics.invalidInputs.labels(name);
    this.overloaded = metrics.rejected.labels(name, version, 'overloaded');
    this.inferenceDuration = histogramSeries(metrics.inferenceDuration, { model: name, version });
    this.queueWait = histogramSeries(metrics.queueWait, { model: name, version });
    this.batchSize = histogramSeries(metrics.batchSize, { model: name, version });
    this.queueDepthGauge = metrics.queueDepth.labels(name, version);
    this.queueDepthGauge.set(0);
    metrics.queueCapacity.labels(name, version).set(queueCapacity);
  }

  batchStarting(rows: number, waitsMs: readonly number[]): void {
    this.batchSize.observe(rows);
    for (let index = 0; index < waitsMs.length; index++) this.queueWait.observe(waitsMs[index]! / 1000);
  }

  batchFinished(_rows: number, durationMs: number): void {
    this.inferenceDuration.observe(durationMs / 1000);
  }

  queueDepth(rows: number): void {
    this.queueDepthGauge.set(rows);
  }

  /** Gauges describe what is loaded now: drop them with the version (counters stay for rate()). */
  remove(): void {
    this.metrics.queueDepth.remove(this.name, this.version);
    this.metrics.queueCapacity.remove(this.name, this.version);
  }
}

/**
 * One model version ready to serve: its ONNX session, compiled input validator, micro-batcher and
 * bound metric series. Shared by every request; released only once retired AND no request uses it.
 */
export class LoadedModel {
  readonly name: string;
  readonly version: number;
  readonly versionLabel: string;
  readonly sha256: string;
  readonly signature: ModelSignature;
  readonly classes: readonly string[];
  readonly classIndex: ReadonlyMap<string, number>;
  /** Index of `positiveClass` in `classes` for binary models, else -1. */
  readonly positiveIndex: number;
  readonly validator: InputValidator;
  readonly batcher: MicroBatcher<InferenceOutput>;
  readonly metrics: ModelMetrics;
  /** METRICS_ENABLED: when false the hot path records no metric at all. */
  readonly recordMetrics: boolean;
  /** Scratch per-class counts for one answer (synchronous use only): one counter update per class. */
  readonly classCounts: Float64Array;
  readonly loadedAt = new Date();
  private inFlight = 0;
  private retired = false;
  private released: Promise<void> | undefined;

  constructor(
    modelVersion: ModelVersion,
    private readonly session: OnnxModelSession,
    batcherOptions: BatcherOptions,
    metrics: Metrics,
    recordMetrics = true,
  ) {
    this.recordMetrics = recordMetrics;
    this.name = modelVersion.name;
    this.version = modelVersion.version;
    this.versionLabel = String(modelVersion.version);
    this.sha256 = modelVersion.sha256;
    this.signature = modelVersion.signature;
    this.classes = [...modelVersion.signature.classes];
    this.classIndex = new Map(this.classes.map((label, index) => [label, index]));
    this.classCounts = new Float64Array(this.classes.length);
    const positive = modelVersion.signature.positiveClass;
    this.positiveIndex =
      modelVersion.signature.task === 'binary' && positive !== undefined
        ? this.classes.indexOf(positive)
        : -1;
    this.validator = new InputValidator(modelVersion.signature);
    this.metrics = new ModelMetrics(
      metrics,
      this.name,
      this.versionLabel,
      modelVersion.signature,
      batcherOptions.maxQueueRows,
    );
    const features = modelVersion.signature.features;
    this.batcher = new MicroBatcher<InferenceOutput>(
      batcherOptions,
      (capacity) => allocateColumns(features, capacity),
      (columns, rows) => session.run(columns, rows),
      recordMetrics ? this.metrics : undefined,
    );
  }

  get isRetired(): boolean {
    return this.retired;
  }

  /** A request starts using this version (synchronously with the lookup that returned it). */
  acquire(): void {
    this.inFlight++;
  }

  /** The request is done with it (answer built). */
  release(): void {
    this.inFlight--;
    if (this.retired && this.inFlight === 0) void this.dispose();
  }

  /** No new requests will be routed here; the session is released once the last one finished. */
  retire(): Promise<void> {
    this.retired = true;
    return this.inFlight === 0 ? this.dispose() : Promise.resolve();
  }

  private dispose(): Promise<void> {
    this.released ??= (async () => {
      await this.batcher.whenIdle();
      this.metrics.remove();
      await this.session.release().catch(() => undefined);
    })();
    return this.released;
  }
}
