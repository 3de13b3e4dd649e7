import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Every metric Vigil exports is declared here, and only here. Names follow Prometheus conventions
 * (one prefix, base units, `_total`); labels take a small fixed set of values, never an id.
 * `grafana/` and `prometheus/` may only use names from this file (a test checks it).
 */

/** OpenTelemetry's advised HTTP buckets, plus finer ones below 5 ms where this service lives. */
export const HTTP_DURATION_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1,
  2.5, 5, 7.5, 10,
];
/** Inference is 5–2000 µs per call here: the default buckets (from 5 ms) would see nothing. */
export const INFERENCE_DURATION_BUCKETS = [
  0.000005, 0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
  0.25, 0.5, 1,
];
export const BATCH_SIZE_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];
export const SCORE_BUCKETS = Array.from({ length: 20 }, (_, index) =>
  Number(((index + 1) * 0.05).toFixed(2)),
);

type ModelLabels = 'model' | 'version';

@Injectable()
export class Metrics {
  readonly registry = new Registry();

  // --- HTTP ---------------------------------------------------------------------------------------
  readonly httpRequestDuration = new Histogram<'method' | 'route' | 'status_code'>({
    name: 'http_server_request_duration_seconds',
    help: 'Duration of HTTP server requests, by method, route template and status code',
    labelNames: ['method', 'route', 'status_code'],
    buckets: HTTP_DURATION_BUCKETS,
    registers: [this.registry],
  });
  readonly httpActiveRequests = new Gauge<'method'>({
    name: 'http_server_active_requests',
    help: 'HTTP requests being served right now',
    labelNames: ['method'],
    registers: [this.registry],
  });

  // --- Inference ----------------------------------------------------------------------------------
  readonly inferenceDuration = new Histogram<ModelLabels>({
    name: 'vigil_inference_duration_seconds',
    help: 'Time of one ONNX Runtime call (a whole micro-batch)',
    labelNames: ['model', 'version'],
    buckets: INFERENCE_DURATION_BUCKETS,
    registers: [this.registry],
  });
  readonly queueWait = new Histogram<ModelLabels>({
    name: 'vigil_inference_queue_wait_seconds',
    help: 'Time a request waited in the micro-batching queue before its inference started',
    labelNames: ['model', 'version'],
    buckets: INFERENCE_DURATION_BUCKETS,
    registers: [this.registry],
  });
  readonly batchSize = new Histogram<ModelLabels>({
    name: 'vigil_inference_batch_size_rows',
    help: 'Rows per ONNX Runtime call',
    labelNames: ['model', 'version'],
    buckets: BATCH_SIZE_BUCKETS,
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge<ModelLabels>({
    name: 'vigil_inference_queue_depth_rows',
    help: 'Rows waiting for inference',
    labelNames: ['model', 'version'],
    registers: [this.registry],
  });
  readonly queueCapacity = new Gauge<ModelLabels>({
    name: 'vigil_inference_queue_capacity_rows',
    help: 'Rows the queue holds before requests are refused with 503 OVERLOADED',
    labelNames: ['model', 'version'],
    registers: [this.registry],
  });
  readonly rejected = new Counter<ModelLabels | 'reason'>({
    name: 'vigil_inference_rejected_total',
    help: 'Requests refused before inference (reason: overloaded, not_ready, shutting_down)',
    labelNames: ['model', 'version', 'reason'],
    registers: [this.registry],
  });
  readonly predictions = new Counter<ModelLabels | 'label'>({
    name: 'vigil_predictions_total',
    help: 'Predictions made, by predicted label',
    labelNames: ['model', 'version', 'label'],
    registers: [this.registry],
  });
  readonly predictionScore = new Histogram<ModelLabels>({
    name: 'vigil_prediction_score',
    help: 'Binary models: distribution of P(positive class)',
    labelNames: ['model', 'version'],
    buckets: SCORE_BUCKETS,
    registers: [this.registry],
  });
  readonly inputOutOfRange = new Counter<ModelLabels | 'feature'>({
    name: 'vigil_input_out_of_training_range_total',
    help: 'Input values outside the range seen in training (accepted, flagged), by feature',
    labelNames: ['model', 'version', 'feature'],
    registers: [this.registry],
  });
  readonly invalidInputs = new Counter<'model'>({
    name: 'vigil_invalid_inputs_total',
    help: 'Requests refused with 400 INVALID_INPUT',
    labelNames: ['model'],
    registers: [this.registry],
  });

  // --- Model lifecycle ----------------------------------------------------------------------------
  readonly modelLoadFailures = new Counter<'model'>({
    name: 'vigil_model_load_failures_total',
    help: 'Model versions that failed to load (the previous version keeps serving)',
    labelNames: ['model'],
    registers: [this.registry],
  });
  readonly modelSwaps = new Counter<'model'>({
    name: 'vigil_model_swaps_total',
    help: 'Hot swaps of the served Production version',
    labelNames: ['model'],
    registers: [this.registry],
  });
  readonly modelInfo = new Gauge<ModelLabels | 'stage' | 'sha256'>({
    name: 'vigil_model_info',
    help: 'What is served: 1 for each loaded model version',
    labelNames: ['model', 'version', 'stage', 'sha256'],
    registers: [this.registry],
  });

  // --- Telemetry pipeline health ------------------------------------------------------------------
  readonly logEventsShipped = new Counter({
    name: 'vigil_log_events_shipped_total',
    help: 'Log events accepted by Elasticsearch',
    registers: [this.registry],
  });
  readonly logEventsDropped = new Counter<'sink' | 'reason'>({
    name: 'vigil_log_events_dropped_total',
    help: 'Log events lost (sink: stdout, elasticsearch; reason: buffer_full, rejected, retries_exhausted, circuit_open)',
    labelNames: ['sink', 'reason'],
    registers: [this.registry],
  });
  readonly logQueueSize = new Gauge({
    name: 'vigil_log_queue_events',
    help: 'Log events waiting to be shipped to Elasticsearch',
    registers: [this.registry],
  });
  readonly logShippingCircuitOpen = new Gauge({
    name: 'vigil_log_shipping_circuit_open',
    help: '1 while the Elasticsearch circuit breaker is open (shipping paused), else 0',
    registers: [this.registry],
  });
  readonly traceExportFailures = new Counter({
    name: 'vigil_trace_export_failures_total',
    help: 'Span batches the OTLP exporter failed to deliver',
    registers: [this.registry],
  });

  // --- Prediction store ---------------------------------------------------------------------------
  readonly predictionStoreWritten = new Counter({
    name: 'vigil_prediction_store_written_total',
    help: 'Predictions written to the prediction store',
    registers: [this.registry],
  });
  readonly predictionStoreDropped = new Counter<'reason'>({
    name: 'vigil_prediction_store_dropped_total',
    help: 'Predictions not stored (reason: queue_full, write_failed)',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly predictionStoreQueue = new Gauge({
    name: 'vigil_prediction_store_queue_rows',
    help: 'Predictions waiting to be written',
    registers: [this.registry],
  });

  // --- Model monitoring ---------------------------------------------------------------------------
  readonly driftScore = new Gauge<ModelLabels | 'feature' | 'method'>({
    name: 'vigil_drift_score',
    help: 'Drift statistic of the current window against the training reference, per feature and method',
    labelNames: ['model', 'version', 'feature', 'method'],
    registers: [this.registry],
  });
  readonly featureDrifted = new Gauge<ModelLabels | 'feature'>({
    name: 'vigil_feature_drift_detected',
    help: '1 when the feature drifted under its default test',
    labelNames: ['model', 'version', 'feature'],
    registers: [this.registry],
  });
  readonly datasetDriftShare = new Gauge<ModelLabels>({
    name: 'vigil_dataset_drift_share_ratio',
    help: 'Share of features that drifted',
    labelNames: ['model', 'version'],
    registers: [this.registry],
  });
  readonly driftDetected = new Gauge<ModelLabels>({
    name: 'vigil_dataset_drift_detected',
    help: '1 when the share of drifted features reaches the threshold',
    labelNames: ['model', 'version'],
    registers: [this.registry],
  });
  readonly liveQuality = new Gauge<ModelLabels | 'metric'>({
    name: 'vigil_live_quality',
    help: 'Quality on predictions joined with feedback in the current window',
    labelNames: ['model', 'version', 'metric'],
    registers: [this.registry],
  });
  readonly trainingQuality = new Gauge<ModelLabels | 'metric'>({
    name: 'vigil_training_quality',
    help: "The version's test metrics at training time, beside the live ones",
    labelNames: ['model', 'version', 'metric'],
    registers: [this.registry],
  });
  readonly feedback = new Counter<ModelLabels>({
    name: 'vigil_feedback_total',
    help: 'Ground-truth labels received',
    labelNames: ['model', 'version'],
    registers: [this.registry],
  });
  readonly evaluations = new Counter<'model' | 'outcome'>({
    name: 'vigil_evaluations_total',
    help: 'Monitoring evaluations run (outcome: ok, failed, skipped)',
    labelNames: ['model', 'outcome'],
    registers: [this.registry],
  });
  readonly lastEvaluation = new Gauge<'model'>({
    name: 'vigil_last_evaluation_timestamp_seconds',
    help: 'When the last monitoring evaluation finished',
    labelNames: ['model'],
    registers: [this.registry],
  });
  readonly retrains = new Counter<'model' | 'trigger' | 'outcome'>({
    name: 'vigil_retrains_total',
    help: 'Retraining runs (trigger: manual, feedback, drift, quality; outcome: promoted, staged, failed)',
    labelNames: ['model', 'trigger', 'outcome'],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 10 });
  }
}
