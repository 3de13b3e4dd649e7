import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { SqlDatabase, type SqlExecutor, type SqlValue } from '../database/sql-database';
import { SqliteDatabase } from '../database/sqlite.database';
import type { PredictionRecord } from '../prediction/prediction-events';
import type { WindowRow } from './domain/evaluation';
import { SqlitePredictionWriter } from './sqlite-prediction.writer';

/** A prediction as stored: the privacy policy has already been applied to `inputs`. */
export type StoredPrediction = PredictionRecord;

export interface PredictionKey {
  predictionId: string;
  requestId: string;
  model: string;
  version: number;
  timestamp: number;
}

export interface FeedbackRow {
  predictionId: string;
  model: string;
  version: number;
  actual: string;
  predictionTimestamp: number;
}

export type FeedbackStatus = 'created' | 'unchanged' | 'updated';

/** A labelled production row for retraining: the stored inputs and the true label. */
export interface LabelledProductionRow {
  inputs: Record<string, number | string>;
  actual: string;
}

const PREDICTION_COLUMNS = [
  'prediction_id',
  'request_id',
  'trace_id',
  'ts_ms',
  'model_name',
  'version',
  'inputs',
  'label',
  'probabilities',
  'score',
  'latency_ms',
  'out_of_range',
] as const;
/** 12 parameters a row: 128 rows (1,536 parameters) stay far below SQLite's and PostgreSQL's bind limits. */
export const INSERT_CHUNK_ROWS = 128;

/** `count` split into full chunks, then powers of two: at most 8 distinct statement sizes ever. */
export function chunkSizes(count: number): number[] {
  const sizes: number[] = [];
  let left = count;
  while (left >= INSERT_CHUNK_ROWS) {
    sizes.push(INSERT_CHUNK_ROWS);
    left -= INSERT_CHUNK_ROWS;
  }
  for (let size = INSERT_CHUNK_ROWS / 2; size >= 1; size /= 2) {
    if (left >= size) {
      sizes.push(size);
      left -= size;
    }
  }
  return sizes;
}

const insertSqlBySize = new Map<number, string>();
function insertSql(rows: number): string {
  let sql = insertSqlBySize.get(rows);
  if (sql === undefined) {
    sql = `INSERT INTO predictions (${PREDICTION_COLUMNS.join(', ')}) VALUES ${placeholders(
      rows,
      PREDICTION_COLUMNS.length,
    )} ON CONFLICT (prediction_id) DO NOTHING`;
    insertSqlBySize.set(rows, sql);
  }
  return sql;
}

function insertParams(predictions: readonly StoredPrediction[], start: number, count: number): SqlValue[] {
  const params = new Array<SqlValue>(count * PREDICTION_COLUMNS.length);
  let at = 0;
  for (let index = start; index < start + count; index += 1) {
    const prediction = predictions[index]!;
    params[at++] = prediction.predictionId;
    params[at++] = prediction.requestId;
    params[at++] = prediction.traceId ?? null;
    params[at++] = prediction.timestamp;
    params[at++] = prediction.model;
    params[at++] = prediction.version;
    params[at++] = JSON.stringify(prediction.inputs);
    params[at++] = prediction.label;
    params[at++] = JSON.stringify(prediction.probabilities);
    params[at++] = prediction.score ?? null;
    params[at++] = prediction.latencyMs;
    params[at++] =
      prediction.outOfRange && prediction.outOfRange.length > 0
        ? JSON.stringify(prediction.outOfRange)
        : null;
  }
  return params;
}

function placeholders(rowCount: number, columnCount: number): string {
  const rows: string[] = [];
  for (let row = 0; row < rowCount; row += 1) {
    const slots: string[] = [];
    for (let column = 0; column < columnCount; column += 1) slots.push(`$${row * columnCount + column + 1}`);
    rows.push(`(${slots.join(', ')})`);
  }
  return rows.join(', ');
}

function list(count: number, offset = 0): string {
  return Array.from({ length: count }, (_, index) => `$${index + offset + 1}`).join(', ');
}

interface WindowSqlRow {
  prediction_id: string;
  ts_ms: number;
  inputs: string;
  label: string;
  probabilities: string;
  score: number | null;
  actual: string | null;
}

/**
 * The prediction store and the feedback table, in the shared SQL database (SQLite or PostgreSQL).
 * Inserts are idempotent (`ON CONFLICT DO NOTHING`), so a batch retried after a lost reply is safe.
 */
@Injectable()
export class PredictionStore implements OnApplicationShutdown {
  /** SQLite files: inserts run on a worker thread (see `SqlitePredictionWriter`); null: in-process. */
  private readonly writer: SqlitePredictionWriter | null;

  constructor(readonly database: SqlDatabase) {
    this.writer =
      database instanceof SqliteDatabase && database.file !== ':memory:'
        ? new SqlitePredictionWriter({ file: database.file, columns: PREDICTION_COLUMNS })
        : null;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.writer?.close();
  }

  /**
   * One transaction per call (one commit, one WAL sync on SQLite, instead of one per statement), in
   * multi-row INSERTs of a few fixed sizes only (`chunkSizes`): the statement text, hence the prepared
   * statement cached by the database, is reused from one flush to the next (a flush of any size used to
   * prepare a statement of its own size: 3.4 % of the service's CPU under load).
   */
  async insertPredictions(predictions: readonly StoredPrediction[]): Promise<void> {
    if (predictions.length === 0) return;
    const sizes = chunkSizes(predictions.length);
    if (this.writer !== null)
      return this.writer.insert(sizes, insertParams(predictions, 0, predictions.length));
    const write = async (executor: SqlExecutor): Promise<void> => {
      let start = 0;
      for (const size of sizes) {
        await executor.execute(insertSql(size), insertParams(predictions, start, size));
        start += size;
      }
    };
    if (sizes.length === 1) await write(this.database);
    else await this.database.transaction(write);
  }

  async findPredictions(predictionIds: readonly string[]): Promise<PredictionKey[]> {
    if (predictionIds.length === 0) return [];
    const rows = await this.database.query<{
      prediction_id: string;
      request_id: string;
      model_name: string;
      version: number;
      ts_ms: number;
    }>(
      `SELECT prediction_id, request_id, model_name, version, ts_ms FROM predictions WHERE prediction_id IN (${list(
        predictionIds.length,
      )})`,
      predictionIds,
    );
    return rows.map((row) => ({
      predictionId: row.prediction_id,
      requestId: row.request_id,
      model: row.model_name,
      version: Number(row.version),
      timestamp: Number(row.ts_ms),
    }));
  }

  /** The predictions of one request (at most `limit`). */
  async findByRequestId(requestId: string, limit = 2): Promise<PredictionKey[]> {
    const rows = await this.database.query<{
      prediction_id: string;
      request_id: string;
      model_name: string;
      version: number;
      ts_ms: number;
    }>(
      `SELECT prediction_id, request_id, model_name, version, ts_ms FROM predictions WHERE request_id = $1 LIMIT $2`,
      [requestId, limit],
    );
    return rows.map((row) => ({
      predictionId: row.prediction_id,
      requestId: row.request_id,
      model: row.model_name,
      version: Number(row.version),
      timestamp: Number(row.ts_ms),
    }));
  }

  /** Inserts or corrects feedback; the same label twice changes nothing. */
  async upsertFeedback(rows: readonly FeedbackRow[], receivedAt: number): Promise<FeedbackStatus[]> {
    if (rows.length === 0) return [];
    return this.database.transaction(async (tx) => {
      const existing = new Map(
        (
          await tx.query<{ prediction_id: string; actual: string }>(
            `SELECT prediction_id, actual FROM feedback WHERE prediction_id IN (${list(rows.length)})`,
            rows.map((row) => row.predictionId),
          )
        ).map((row) => [row.prediction_id, row.actual]),
      );
      const statuses: FeedbackStatus[] = [];
      for (const row of rows) {
        const previous = existing.get(row.predictionId);
        if (previous === row.actual) {
          statuses.push('unchanged');
          continue;
        }
        await tx.execute(
          `INSERT INTO feedback (prediction_id, model_name, version, actual, received_at_ms, prediction_ts_ms)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (prediction_id) DO UPDATE SET actual = excluded.actual, received_at_ms = excluded.received_at_ms`,
          [row.predictionId, row.model, row.version, row.actual, receivedAt, row.predictionTimestamp],
        );
        existing.set(row.predictionId, row.actual);
        statuses.push(previous === undefined ? 'created' : 'updated');
      }
      return statuses;
    });
  }

  /** The newest predictions of a model version (at most `size`, none older than `sinceMs`), with feedback. */
  async window(model: string, version: number, size: number, sinceMs = 0): Promise<WindowRow[]> {
    const rows = await this.database.query<WindowSqlRow>(
      `SELECT p.prediction_id, p.ts_ms, p.inputs, p.label, p.probabilities, p.score, f.actual
       FROM predictions p LEFT JOIN feedback f ON f.prediction_id = p.prediction_id
       WHERE p.model_name = $1 AND p.version = $2 AND p.ts_ms >= $3
       ORDER BY p.ts_ms DESC LIMIT $4`,
      [model, version, sinceMs, size],
    );
    return rows.map((row) => {
      const windowRow: WindowRow = {
        predictionId: row.prediction_id,
        timestamp: Number(row.ts_ms),
        inputs: JSON.parse(row.inputs) as Record<string, number | string>,
        label: row.label,
        probabilities: JSON.parse(row.probabilities) as number[],
      };
      if (row.score !== null) windowRow.score = Number(row.score);
      if (row.actual !== null) windowRow.actual = row.actual;
      return windowRow;
    });
  }

  /** Feedback rows received for a model after `afterMs` (retraining trigger). */
  async countFeedback(model: string, afterMs = 0): Promise<number> {
    const [row] = await this.database.query<{ count: number | string }>(
      `SELECT COUNT(*) AS count FROM feedback WHERE model_name = $1 AND received_at_ms > $2`,
      [model, afterMs],
    );
    return Number(row?.count ?? 0);
  }

  /** The newest labelled predictions of a model, any version (retraining data). */
  async labelledRows(model: string, limit: number): Promise<LabelledProductionRow[]> {
    const rows = await this.database.query<{ inputs: string; actual: string }>(
      `SELECT p.inputs, f.actual FROM feedback f JOIN predictions p ON p.prediction_id = f.prediction_id
       WHERE f.model_name = $1 ORDER BY f.prediction_ts_ms DESC LIMIT $2`,
      [model, limit],
    );
    return rows.map((row) => ({
      inputs: JSON.parse(row.inputs) as Record<string, number | string>,
      actual: row.actual,
    }));
  }

  /** Retention: drops predictions (and their feedback) older than `cutoffMs`, then beyond `maxRows`. */
  async applyRetention(cutoffMs: number, maxRows: number): Promise<number> {
    let deleted = (await this.database.execute(`DELETE FROM predictions WHERE ts_ms < $1`, [cutoffMs]))
      .rowCount;
    let feedbackCutoff = cutoffMs;
    const [boundary] = await this.database.query<{ ts_ms: number }>(
      `SELECT ts_ms FROM predictions ORDER BY ts_ms DESC LIMIT 1 OFFSET $1`,
      [maxRows],
    );
    if (boundary) {
      const boundaryMs = Number(boundary.ts_ms);
      deleted += (await this.database.execute(`DELETE FROM predictions WHERE ts_ms <= $1`, [boundaryMs]))
        .rowCount;
      feedbackCutoff = Math.max(feedbackCutoff, boundaryMs + 1);
    }
    await this.database.execute(`DELETE FROM feedback WHERE prediction_ts_ms < $1`, [feedbackCutoff]);
    return deleted;
  }

  async countPredictions(model?: string): Promise<number> {
    const [row] = model
      ? await this.database.query<{ count: number | string }>(
          `SELECT COUNT(*) AS count FROM predictions WHERE model_name = $1`,
          [model],
        )
      : await this.database.query<{ count: number | string }>(`SELECT COUNT(*) AS count FROM predictions`);
    return Number(row?.count ?? 0);
  }
}
