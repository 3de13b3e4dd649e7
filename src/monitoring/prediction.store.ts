import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { EventLoopSlicer } from '../common/event-loop-slicer';
import { SqlDatabase, type SqlExecutor, type SqlValue } from '../database/sql-database';
import { SqliteDatabase } from '../database/sqlite.database';
import { readSqlValues, SqlValueBuffer } from '../database/sql-value-buffer';
import { PredictionBatch, type PredictionRecord } from '../prediction/prediction-events';
import type { WindowRow } from './domain/evaluation';
import { predictionIdCandidates, predictionIdOf, resolvePredictionId } from './domain/prediction-id';
import type { LabelledProductionRow } from './domain/retrain-policy';
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

/** One row per batch (a request's predictions): `docs/monitoring.md`, prediction store. */
export const BATCH_COLUMNS = [
  'batch_id',
  'request_id',
  'trace_id',
  'ts_ms',
  'model_name',
  'version',
  'row_count',
  'inputs',
  'labels',
  'probabilities',
  'scores',
  'latency_ms',
  'out_of_range',
] as const;
/** The columns of `BATCH_COLUMNS` that hold text (or null). */
export const BATCH_TEXT_COLUMNS = [
  'batch_id',
  'request_id',
  'trace_id',
  'model_name',
  'inputs',
  'labels',
  'probabilities',
  'scores',
  'out_of_range',
];
/** 13 parameters a batch: 128 batches (1,664 parameters) stay far below SQLite's and PostgreSQL's bind limits. */
export const INSERT_CHUNK_ROWS = 128;
/** Batches (or milliseconds of them) per retention step: a few milliseconds of SQLite work each. */
const RETENTION_STEP = 200;
/** Batch ids per `IN (…)` list when reads resolve many ids at once. */
const LOOKUP_CHUNK = 500;
/** Feedback rows per query of `labelledRows` (keyset pages on `feedback_model_prediction_ts`). */
const LABELLED_PAGE = 2000;
/** Batches the window reads first (`windowBatches`); each next read takes eight times as many. */
const WINDOW_FIRST_CHUNK = 64;

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
function insertSql(batches: number): string {
  let sql = insertSqlBySize.get(batches);
  if (sql === undefined) {
    sql = `INSERT INTO prediction_batches (${BATCH_COLUMNS.join(', ')}) VALUES ${placeholders(
      batches,
      BATCH_COLUMNS.length,
    )} ON CONFLICT (batch_id) DO NOTHING`;
    insertSqlBySize.set(batches, sql);
  }
  return sql;
}

/**
 * Batches whose values are encoded (`SqlValueBuffer`): what the recorder queues until the write, so
 * that the queue holds no JS object per request (docs/performance.md, pass 5).
 */
export interface EncodedBatches {
  readonly bytes: Uint8Array;
  readonly batches: number;
  readonly rows: number;
}

/**
 * A batch's 13 `prediction_batches` values: each JSON column is one array for the whole batch; the
 * inputs column is the request's own text when the prediction path kept it (`inputsJson`), and the
 * probabilities are the texts the answer shares (`probabilityTexts`).
 */
export function batchValues(batch: PredictionBatch): SqlValue[] {
  const rows = batch.rows;
  let outOfRange: string | null = null;
  if (batch.outOfRange !== undefined) {
    const flagged = batch.outOfRange.map((features) =>
      features !== undefined && features.length > 0 ? features : null,
    );
    if (flagged.some((features) => features !== null)) outOfRange = JSON.stringify(flagged);
  }
  return [
    batch.batchId,
    batch.requestId,
    batch.traceId ?? null,
    batch.timestamp,
    batch.model,
    batch.version,
    rows,
    batch.inputsJson ?? (rows === 1 ? `[${JSON.stringify(batch.inputs[0])}]` : JSON.stringify(batch.inputs)),
    rows === 1 ? `[${JSON.stringify(batch.labels[0])}]` : batch.labelsJson(),
    batch.probabilitiesJson(),
    batch.scoresJson() ?? null,
    batch.latencyMs,
    outOfRange,
  ];
}

/** Resolves on the next turn of the event loop, after pending I/O (requests) has run. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
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

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let start = 0; start < items.length; start += size) out.push(items.slice(start, start + size));
  return out;
}

interface BatchKeySqlRow {
  batch_id: string;
  request_id: string;
  model_name: string;
  version: number;
  ts_ms: number;
  row_count: number;
}

interface WindowSqlRow {
  batch_id: string;
  ts_ms: number;
  row_count: number;
  inputs: string;
  labels: string;
  probabilities: string;
  scores: string | null;
}

function toKey(row: BatchKeySqlRow, predictionId: string): PredictionKey {
  return {
    predictionId,
    requestId: row.request_id,
    model: row.model_name,
    version: Number(row.version),
    timestamp: Number(row.ts_ms),
  };
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
        ? new SqlitePredictionWriter({
            file: database.file,
            columns: BATCH_COLUMNS,
            textColumns: BATCH_TEXT_COLUMNS,
            // Its thread checkpoints the WAL: no commit on the event loop pays for one meanwhile.
            onRunning: (running) => database.checkpointOnCommit(!running),
          })
        : null;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.writer?.close();
  }

  /**
   * One SQL row per batch (a request's predictions, `batchLength`), so a 100-row request costs one
   * index entry per index instead of 100. One transaction per call (one commit, one WAL sync on
   * SQLite), in multi-row INSERTs of a few fixed sizes only (`chunkSizes`): the statement text, hence
   * the prepared statement cached by the database, is reused from one flush to the next.
   */
  async insertPredictions(predictions: readonly StoredPrediction[]): Promise<void> {
    return this.insertBatches(PredictionBatch.fromRecords(predictions));
  }

  /** `insertPredictions` for predictions already in batches (one per request). */
  async insertBatches(batches: readonly PredictionBatch[]): Promise<void> {
    const values = new SqlValueBuffer();
    let rows = 0;
    for (const batch of batches) {
      values.append(batchValues(batch));
      rows += batch.rows;
    }
    return this.insertEncoded({ bytes: values.bytes(), batches: batches.length, rows });
  }

  /** `insertBatches` for batches already encoded (the recorder's queue). */
  async insertEncoded(encoded: EncodedBatches): Promise<void> {
    if (encoded.batches === 0) return;
    const sizes = chunkSizes(encoded.batches);
    if (this.writer !== null) return this.writer.insert(sizes, encoded.bytes);
    const params = readSqlValues(encoded.bytes);
    const width = BATCH_COLUMNS.length;
    const write = async (executor: SqlExecutor): Promise<void> => {
      let at = 0;
      for (const size of sizes) {
        await executor.execute(insertSql(size), params.slice(at, at + size * width));
        at += size * width;
      }
    };
    if (sizes.length === 1) await write(this.database);
    else await this.database.transaction(write);
  }

  /** The predictions these ids name (`resolvePredictionId`), each keyed by the id asked for. */
  async findPredictions(predictionIds: readonly string[]): Promise<PredictionKey[]> {
    const ids = [...new Set(predictionIds)];
    if (ids.length === 0) return [];
    const candidates = [
      ...new Set(ids.flatMap((id) => predictionIdCandidates(id).map((ref) => ref.batchId))),
    ];
    const rows = await this.database.query<BatchKeySqlRow>(
      `SELECT batch_id, request_id, model_name, version, ts_ms, row_count FROM prediction_batches
       WHERE batch_id IN (${list(candidates.length)})`,
      candidates,
    );
    const byId = new Map(rows.map((row) => [row.batch_id, row]));
    const rowCountOf = (batchId: string): number | undefined => {
      const row = byId.get(batchId);
      return row === undefined ? undefined : Number(row.row_count);
    };
    const keys: PredictionKey[] = [];
    for (const id of ids) {
      const ref = resolvePredictionId(id, rowCountOf);
      if (ref !== undefined) keys.push(toKey(byId.get(ref.batchId)!, id));
    }
    return keys;
  }

  /** The predictions of one request (at most `limit`). */
  async findByRequestId(requestId: string, limit = 2): Promise<PredictionKey[]> {
    // Every batch holds at least one row: `limit` batches are always enough.
    const rows = await this.database.query<BatchKeySqlRow>(
      `SELECT batch_id, request_id, model_name, version, ts_ms, row_count FROM prediction_batches
       WHERE request_id = $1 ORDER BY ts_ms, batch_id LIMIT $2`,
      [requestId, limit],
    );
    const keys: PredictionKey[] = [];
    for (const row of rows) {
      const rowCount = Number(row.row_count);
      for (let index = 0; index < rowCount && keys.length < limit; index += 1)
        keys.push(toKey(row, predictionIdOf(row.batch_id, rowCount, index)));
    }
    return keys;
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

  /**
   * The newest predictions of a model version (at most `size`, none older than `sinceMs`), with
   * feedback: newest batch first and, inside a batch, the last row first, so the list is the reverse of
   * the order predictions were made in (the evaluation does not depend on the order). The batches
   * needed are the newest whose row counts add up to `size` (`windowBatches`), read by id; the
   * feedback comes from a second query over the same model version and time span, matched to rows by
   * the id rule. Reads and parses in slices (`slicer`): each query answers at once with SQLite, so
   * without them the whole window was one block of the event loop.
   */
  async window(
    model: string,
    version: number,
    size: number,
    sinceMs = 0,
    slicer = new EventLoopSlicer(),
  ): Promise<WindowRow[]> {
    if (size <= 0) return [];
    const keys = await this.windowBatches(model, version, size, sinceMs, slicer);
    const batches: WindowSqlRow[] = [];
    for (const ids of chunks(keys, LOOKUP_CHUNK)) {
      batches.push(
        ...(await this.database.query<WindowSqlRow>(
          `SELECT batch_id, ts_ms, row_count, inputs, labels, probabilities, scores FROM prediction_batches
           WHERE batch_id IN (${list(ids.length)}) ORDER BY ts_ms DESC, batch_id DESC`,
          ids,
        )),
      );
      await slicer.turn();
    }
    if (batches.length === 0) return [];
    const oldest = Number(batches[batches.length - 1]!.ts_ms);
    const actualByRow = await this.windowFeedback(model, version, oldest, batches);
    const rows: WindowRow[] = [];
    for (const batch of batches) {
      const rowCount = Number(batch.row_count);
      const timestamp = Number(batch.ts_ms);
      const inputs = JSON.parse(batch.inputs) as Record<string, number | string>[];
      const labels = JSON.parse(batch.labels) as string[];
      const probabilities = JSON.parse(batch.probabilities) as number[][];
      const scores = batch.scores === null ? null : (JSON.parse(batch.scores) as (number | null)[]);
      const actuals = actualByRow.get(batch.batch_id);
      for (let row = rowCount - 1; row >= 0 && rows.length < size; row -= 1) {
        const windowRow: WindowRow = {
          predictionId: predictionIdOf(batch.batch_id, rowCount, row),
          timestamp,
          inputs: inputs[row]!,
          label: labels[row]!,
          probabilities: probabilities[row]!,
        };
        const score = scores?.[row];
        if (score !== undefined && score !== null) windowRow.score = Number(score);
        const actual = actuals?.get(row);
        if (actual !== undefined) windowRow.actual = actual;
        rows.push(windowRow);
      }
      if (slicer.due()) await slicer.turn();
    }
    return rows;
  }

  /**
   * The ids of the newest batches that hold `size` predictions (the last may hold more), newest first.
   * Read in chunks that grow eightfold from 64: a model answering 100-row requests needs ~`size`/100
   * batches, and the single query before read `size` of them (one large SQL row each): with an
   * evaluation a second under 100-row load, an evaluation's longest block went 28–46 → 11–21 ms. Each
   * chunk is a slice of its own (`slicer`).
   */
  private async windowBatches(
    model: string,
    version: number,
    size: number,
    sinceMs: number,
    slicer: EventLoopSlicer,
  ): Promise<string[]> {
    const ids: string[] = [];
    let predictions = 0;
    let limit = WINDOW_FIRST_CHUNK;
    let after: { ts: number; id: string } | undefined;
    while (predictions < size) {
      const rows = await this.database.query<{ batch_id: string; ts_ms: number; row_count: number }>(
        `SELECT batch_id, ts_ms, row_count FROM prediction_batches
         WHERE model_name = $1 AND version = $2 AND ts_ms >= $3${
           after === undefined ? '' : ' AND (ts_ms < $5 OR (ts_ms = $5 AND batch_id < $6))'
         }
         ORDER BY ts_ms DESC, batch_id DESC LIMIT $4`,
        after === undefined
          ? [model, version, sinceMs, limit]
          : [model, version, sinceMs, limit, after.ts, after.id],
      );
      for (const row of rows) {
        if (predictions >= size) break;
        ids.push(row.batch_id);
        predictions += Number(row.row_count);
      }
      const last = rows.at(-1);
      if (rows.length < limit || last === undefined) break;
      await slicer.turn();
      after = { ts: Number(last.ts_ms), id: last.batch_id };
      limit = Math.min(limit * 8, size - predictions);
    }
    return ids;
  }

  /** Feedback on the window's batches: batch id → row → actual label. */
  private async windowFeedback(
    model: string,
    version: number,
    oldestMs: number,
    batches: readonly WindowSqlRow[],
  ): Promise<Map<string, Map<number, string>>> {
    const feedback = await this.database.query<{ prediction_id: string; actual: string }>(
      `SELECT prediction_id, actual FROM feedback WHERE model_name = $1 AND version = $2 AND prediction_ts_ms >= $3`,
      [model, version, oldestMs],
    );
    const byBatch = new Map<string, Map<number, string>>();
    if (feedback.length === 0) return byBatch;
    const rowCounts = new Map(batches.map((batch) => [batch.batch_id, Number(batch.row_count)]));
    for (const { prediction_id: predictionId, actual } of feedback) {
      const ref = resolvePredictionId(predictionId, (batchId) => rowCounts.get(batchId));
      if (ref === undefined) continue;
      let actuals = byBatch.get(ref.batchId);
      if (actuals === undefined) byBatch.set(ref.batchId, (actuals = new Map<number, string>()));
      actuals.set(ref.row, actual);
    }
    return byBatch;
  }

  /** Feedback rows received for a model after `afterMs` (retraining trigger). */
  async countFeedback(model: string, afterMs = 0): Promise<number> {
    const [row] = await this.database.query<{ count: number | string }>(
      `SELECT COUNT(*) AS count FROM feedback WHERE model_name = $1 AND received_at_ms > $2`,
      [model, afterMs],
    );
    return Number(row?.count ?? 0);
  }

  /**
   * The newest labelled predictions of a model, any version (retraining data): feedback newest first,
   * then the batches it points to (in `IN` lists of a few hundred), then each row's inputs. Feedback
   * whose prediction is gone does not count towards `limit`. In pages and slices (`slicer`): 50,000
   * rows for a retraining were one 340–390-ms block of the event loop.
   */
  async labelledRows(
    model: string,
    limit: number,
    slicer = new EventLoopSlicer(),
  ): Promise<LabelledProductionRow[]> {
    const labelled: LabelledProductionRow[] = [];
    let after: { ts: number; id: string } | undefined;
    while (labelled.length < limit) {
      const feedback = await this.database.query<{
        prediction_id: string;
        prediction_ts_ms: number;
        actual: string;
      }>(
        `SELECT prediction_id, prediction_ts_ms, actual FROM feedback WHERE model_name = $1${
          after === undefined
            ? ''
            : ' AND (prediction_ts_ms < $3 OR (prediction_ts_ms = $3 AND prediction_id < $4))'
        }
         ORDER BY prediction_ts_ms DESC, prediction_id DESC LIMIT $2`,
        after === undefined ? [model, LABELLED_PAGE] : [model, LABELLED_PAGE, after.ts, after.id],
      );
      await slicer.turn();
      const candidates = [
        ...new Set(
          feedback.flatMap((row) => predictionIdCandidates(row.prediction_id).map((ref) => ref.batchId)),
        ),
      ];
      const batches = new Map<
        string,
        { rowCount: number; inputs: string; parsed?: Record<string, number | string>[] }
      >();
      for (const ids of chunks(candidates, LOOKUP_CHUNK)) {
        const rows = await this.database.query<{ batch_id: string; row_count: number; inputs: string }>(
          `SELECT batch_id, row_count, inputs FROM prediction_batches WHERE batch_id IN (${list(ids.length)})`,
          ids,
        );
        for (const row of rows)
          batches.set(row.batch_id, { rowCount: Number(row.row_count), inputs: row.inputs });
        await slicer.turn();
      }
      for (const row of feedback) {
        if (labelled.length >= limit) break;
        const ref = resolvePredictionId(row.prediction_id, (batchId) => batches.get(batchId)?.rowCount);
        if (ref === undefined) continue;
        const batch = batches.get(ref.batchId)!;
        batch.parsed ??= JSON.parse(batch.inputs) as Record<string, number | string>[];
        labelled.push({ inputs: batch.parsed[ref.row]!, actual: row.actual });
        if (slicer.due()) await slicer.turn();
      }
      const last = feedback.at(-1);
      if (feedback.length < LABELLED_PAGE || last === undefined) break;
      after = { ts: Number(last.prediction_ts_ms), id: last.prediction_id };
    }
    return labelled;
  }

  /**
   * Retention: drops predictions (and their feedback) older than `cutoffMs`, then whole batches beyond
   * the newest `maxRows` rows (a running sum of row counts, newest first, finds the boundary). Returns
   * rows removed. It runs in small steps (`RETENTION_STEP` batches or milliseconds each), with a turn of
   * the event loop between them: on SQLite every statement blocks the event loop, and one window query
   * over the whole table plus one `DELETE` held it for 2.6 s on a million batches (35 s in a 30-minute
   * soak, every 10 minutes); a step takes a few milliseconds (docs/reliability.md). `signal` stops it
   * between two steps (shutdown): what is left goes at the next run.
   */
  async applyRetention(cutoffMs: number, maxRows: number, signal?: AbortSignal): Promise<number> {
    const step = async (): Promise<boolean> => {
      await nextTurn();
      return signal?.aborted !== true;
    };
    let deleted = await this.deleteBatchesBefore(cutoffMs, step);
    let feedbackCutoff = cutoffMs;
    const boundaryMs = await this.rowLimitBoundary(maxRows, step);
    if (boundaryMs !== undefined) {
      deleted += await this.deleteBatchesBefore(boundaryMs + 1, step);
      feedbackCutoff = Math.max(feedbackCutoff, boundaryMs + 1);
    }
    while (await step()) {
      const { rowCount } = await this.database.execute(
        `DELETE FROM feedback WHERE prediction_id IN (
           SELECT prediction_id FROM feedback WHERE prediction_ts_ms < $1 LIMIT ${RETENTION_STEP})`,
        [feedbackCutoff],
      );
      if (rowCount < RETENTION_STEP) break;
    }
    return deleted;
  }

  /** Deletes the batches older than `beforeMs`, a step at a time (`next`: go on?); returns their rows. */
  private async deleteBatchesBefore(beforeMs: number, next: () => Promise<boolean>): Promise<number> {
    let deleted = 0;
    while (await next()) {
      const removed = await this.database.query<{ row_count: number | string }>(
        `DELETE FROM prediction_batches WHERE batch_id IN (
           SELECT batch_id FROM prediction_batches WHERE ts_ms < $1 LIMIT ${RETENTION_STEP})
         RETURNING row_count`,
        [beforeMs],
      );
      for (const row of removed) deleted += Number(row.row_count);
      if (removed.length < RETENTION_STEP) break;
    }
    return deleted;
  }

  /**
   * The newest millisecond whose batches, counted with everything newer, pass `maxRows` rows: it and
   * everything older go. Read newest first along the time index, a page of milliseconds at a time.
   */
  private async rowLimitBoundary(maxRows: number, next: () => Promise<boolean>): Promise<number | undefined> {
    let through = 0;
    let before = Number.MAX_SAFE_INTEGER;
    while (await next()) {
      const page = await this.database.query<{ ts_ms: number | string; rows: number | string }>(
        `SELECT ts_ms, SUM(row_count) AS rows FROM prediction_batches WHERE ts_ms < $1
         GROUP BY ts_ms ORDER BY ts_ms DESC LIMIT ${RETENTION_STEP}`,
        [before],
      );
      for (const row of page) {
        through += Number(row.rows);
        if (through > maxRows) return Number(row.ts_ms);
      }
      if (page.length < RETENTION_STEP) return undefined;
      before = Number(page[page.length - 1]!.ts_ms);
    }
    return undefined;
  }

  /** Stored predictions (rows, not batches). */
  async countPredictions(model?: string): Promise<number> {
    const [row] = model
      ? await this.database.query<{ count: number | string | null }>(
          `SELECT SUM(row_count) AS count FROM prediction_batches WHERE model_name = $1`,
          [model],
        )
      : await this.database.query<{ count: number | string | null }>(
          `SELECT SUM(row_count) AS count FROM prediction_batches`,
        );
    return Number(row?.count ?? 0);
  }
}
