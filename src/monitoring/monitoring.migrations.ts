import { type Migration, autoIncrementKey } from '../database/migrations';

/**
 * Prediction store, feedback, evaluation history and retraining jobs. Times are epoch milliseconds
 * (BIGINT) here: windows and retention are range scans on them. JSON documents are TEXT.
 */
export const MONITORING_MIGRATIONS: readonly Migration[] = [
  {
    id: 'monitoring-001-predictions-feedback',
    up: [
      `CREATE TABLE predictions (
        prediction_id TEXT PRIMARY KEY,
        request_id TEXT NOT NULL,
        trace_id TEXT,
        ts_ms BIGINT NOT NULL,
        model_name TEXT NOT NULL,
        version INTEGER NOT NULL,
        inputs TEXT NOT NULL,
        label TEXT NOT NULL,
        probabilities TEXT NOT NULL,
        score DOUBLE PRECISION,
        latency_ms DOUBLE PRECISION NOT NULL,
        out_of_range TEXT
      )`,
      `CREATE INDEX predictions_model_version_ts ON predictions (model_name, version, ts_ms)`,
      `CREATE INDEX predictions_ts ON predictions (ts_ms)`,
      `CREATE INDEX predictions_request ON predictions (request_id)`,
      `CREATE TABLE feedback (
        prediction_id TEXT PRIMARY KEY,
        model_name TEXT NOT NULL,
        version INTEGER NOT NULL,
        actual TEXT NOT NULL,
        received_at_ms BIGINT NOT NULL,
        prediction_ts_ms BIGINT NOT NULL
      )`,
      `CREATE INDEX feedback_model_received ON feedback (model_name, received_at_ms)`,
      `CREATE INDEX feedback_prediction_ts ON feedback (prediction_ts_ms)`,
    ],
  },
  {
    id: 'monitoring-002-evaluations-retrains',
    up: (dialect) => [
      `CREATE TABLE monitoring_evaluations (
        id ${autoIncrementKey(dialect)},
        model_name TEXT NOT NULL,
        version INTEGER NOT NULL,
        evaluated_at_ms BIGINT NOT NULL,
        window_size INTEGER NOT NULL,
        labelled INTEGER NOT NULL,
        drift_share DOUBLE PRECISION,
        dataset_drift INTEGER NOT NULL,
        result TEXT NOT NULL
      )`,
      `CREATE INDEX monitoring_evaluations_model ON monitoring_evaluations (model_name, evaluated_at_ms)`,
      `CREATE TABLE retrain_jobs (
        job_id TEXT PRIMARY KEY,
        model_name TEXT NOT NULL,
        trigger_reason TEXT NOT NULL,
        status TEXT NOT NULL,
        parent_version INTEGER,
        new_version INTEGER,
        promoted INTEGER NOT NULL DEFAULT 0,
        requested_at_ms BIGINT NOT NULL,
        started_at_ms BIGINT,
        finished_at_ms BIGINT,
        details TEXT,
        error TEXT
      )`,
      `CREATE INDEX retrain_jobs_model ON retrain_jobs (model_name, requested_at_ms)`,
    ],
  },
  {
    // One row per request instead of one per prediction (`docs/monitoring.md`, prediction store): a
    // 100-row request costs one index entry per index, not 100. Old rows become batches of one, named by
    // their prediction id.
    id: 'monitoring-003-prediction-batches',
    up: (dialect) => {
      const json = (value: string): string =>
        dialect === 'sqlite' ? `json_quote(${value})` : `to_json(${value})::text`;
      return [
        `CREATE TABLE prediction_batches (
          batch_id TEXT PRIMARY KEY,
          request_id TEXT NOT NULL,
          trace_id TEXT,
          ts_ms BIGINT NOT NULL,
          model_name TEXT NOT NULL,
          version INTEGER NOT NULL,
          row_count INTEGER NOT NULL,
          inputs TEXT NOT NULL,
          labels TEXT NOT NULL,
          probabilities TEXT NOT NULL,
          scores TEXT,
          latency_ms DOUBLE PRECISION NOT NULL,
          out_of_range TEXT
        )`,
        `CREATE INDEX prediction_batches_model_version_ts ON prediction_batches (model_name, version, ts_ms)`,
        `CREATE INDEX prediction_batches_ts ON prediction_batches (ts_ms)`,
        `CREATE INDEX prediction_batches_request ON prediction_batches (request_id)`,
        `INSERT INTO prediction_batches (batch_id, request_id, trace_id, ts_ms, model_name, version, row_count,
          inputs, labels, probabilities, scores, latency_ms, out_of_range)
         SELECT prediction_id, request_id, trace_id, ts_ms, model_name, version, 1,
          '[' || inputs || ']', '[' || ${json('label')} || ']', '[' || probabilities || ']',
          CASE WHEN score IS NULL THEN NULL ELSE '[' || ${json('score')} || ']' END,
          latency_ms,
          CASE WHEN out_of_range IS NULL THEN NULL ELSE '[' || out_of_range || ']' END
         FROM predictions`,
        `DROP TABLE predictions`,
      ];
    },
  },
  {
    // Feedback newest first for one model, in pages (`labelledRows`, retraining's data): without it
    // each page sorted all of the model's feedback (50,000 rows: one 149-ms query, or 80 ms a page).
    id: 'monitoring-004-feedback-model-prediction-ts',
    up: [
      `CREATE INDEX feedback_model_prediction_ts ON feedback (model_name, prediction_ts_ms, prediction_id)`,
    ],
  },
];
