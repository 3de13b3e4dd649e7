import {
  type BeforeApplicationShutdown,
  Injectable,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { AppConfig } from '../config/config';
import { type PredictionBatch, PredictionEvents } from '../prediction/prediction-events';
import { AppLogger } from '../telemetry/logger';
import { Metrics } from '../telemetry/metrics';
import { PrivacyPolicy } from '../telemetry/privacy';
import { SqlValueBuffer } from '../database/sql-value-buffer';
import { batchValues, type EncodedBatches, PredictionStore } from './prediction.store';

export const FLUSH_INTERVAL_MS = 1000;
export const FLUSH_BATCH_ROWS = 500;
/**
 * A segment of `FLUSH_BATCH_ROWS` rows is written once it also holds this many requests, and at
 * `FLUSH_MAX_ROWS` rows in any case. Each write has a fixed cost (a message, the writer's wake-up, a
 * commit: ~250 µs, from pass 11's pairs in docs/performance.md), a third of the store's cost of a
 * 100-row request when five shared a write; single rows still fill a segment with 500 requests.
 */
export const FLUSH_BATCH_REQUESTS = 16;
export const FLUSH_MAX_ROWS = 4000;
/**
 * Written segments' buffers kept for new ones, at most this many and this large. Each write once
 * meant new buffers (the segment's, grown by doubling, and a copy to hand to the writer thread):
 * ~1.5 MB a write of 16 credit 100-row requests. That much memory outside the heap, allocated then
 * freed, made V8 start a full collection every ~0.8 s. A shared buffer is freed only once the writer
 * thread's own heap lets go of it too, which, as that thread allocates little, can take seconds: a new
 * one for each write held 330–340 MB of RSS with 100-row requests, a pool of 4 244–245 MB, of 16
 * 241 MB (docs/performance.md, pass 12).
 */
const SPARE_BUFFERS = 16;
const SPARE_BUFFER_MAX_BYTES = 1024 * 1024;
const SEGMENT_INITIAL_BYTES = 64 * 1024;
const RETENTION_INTERVAL_MS = 10 * 60_000;
const MAX_BACKOFF_MS = 30_000;
const BASE_BACKOFF_MS = 250;
/** A batch failing this many times for a reason other than an unreachable database is dropped. */
const MAX_ATTEMPTS_ON_BAD_DATA = 3;

const CONNECTION_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  '57P01', // admin_shutdown: PostgreSQL is restarting
  '57P02',
  '57P03', // cannot_connect_now: starting up
  '53300', // too_many_connections
]);

/** True when the database is unreachable or busy (retry), false when the batch itself is at fault. */
export function isConnectionError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && (CONNECTION_ERROR_CODES.has(code) || code.startsWith('08'))) return true;
  const message = error instanceof Error ? error.message : String(error);
  return /connect|terminat|timeout|closed|not queryable/i.test(message);
}

/**
 * Requests queued, then written, together (`RecorderOptions`: about `batchRows` rows): their batches'
 * values, encoded outside the JS heap. A write never splits a request, whose rows form one batch.
 */
class Segment implements EncodedBatches {
  constructor(readonly values: SqlValueBuffer) {}

  batches = 0;
  rows = 0;
  /** Taken by a write: nothing more is appended (it would not be written). */
  sealed = false;

  get bytes(): Uint8Array {
    return this.values.bytes();
  }

  /** Ready to be written: no more requests join it (the one that filled it went in whole). */
  isFull(options: RecorderOptions): boolean {
    return (
      this.rows >= options.maxRows ||
      (this.rows >= options.batchRows && this.batches >= options.batchRequests)
    );
  }
}

export interface RecorderOptions {
  queueMax: number;
  /** A segment is full at `batchRows` rows from `batchRequests` requests, or at `maxRows` rows. */
  batchRows: number;
  batchRequests: number;
  maxRows: number;
  flushIntervalMs: number;
}

/**
 * Writes every prediction to the prediction store off the request path: the listener turns a
 * request's predictions into the SQL values they are stored as (privacy policy applied,
 * `batchValues`) and appends them, encoded, to a bounded queue; a timer (or a full segment)
 * flushes it in multi-row inserts. When the database is down (e.g. PostgreSQL restarting) batches
 * stay queued and are retried with backoff, so nothing is lost while the queue has room; beyond
 * `PREDICTION_STORE_QUEUE_MAX` new predictions are dropped and counted.
 */
@Injectable()
export class PredictionRecorder implements OnModuleInit, OnModuleDestroy, BeforeApplicationShutdown {
  /** Oldest first; only the last may be open (unsealed, not full). */
  private queue: Segment[] = [];
  /** Buffers of written segments, for the next ones (shared memory: the writer thread reads it in place). */
  private readonly spare: SqlValueBuffer[] = [];
  private queuedRows = 0;
  private unsubscribe?: () => void;
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<void>;
  /** The run in progress writes the open segment too (a timer's or a caller's flush), not only full ones. */
  private drainAll = false;
  private flushSoon = false;
  private consecutiveFailures = 0;
  private batchAttempts = 0;
  private nextAttemptAt = 0;
  private lastRetention = 0;
  /** The retention run in progress: never awaited by a flush (feedback lookups wait for flushes). */
  private retention?: Promise<void>;
  private readonly stopRetention = new AbortController();
  private readonly options: RecorderOptions;

  constructor(
    private readonly events: PredictionEvents,
    private readonly store: PredictionStore,
    private readonly privacy: PrivacyPolicy,
    private readonly metrics: Metrics,
    private readonly config: AppConfig,
    private readonly logger: AppLogger,
  ) {
    this.options = {
      queueMax: config.PREDICTION_STORE_QUEUE_MAX,
      batchRows: FLUSH_BATCH_ROWS,
      batchRequests: FLUSH_BATCH_REQUESTS,
      maxRows: FLUSH_MAX_ROWS,
      flushIntervalMs: FLUSH_INTERVAL_MS,
    };
  }

  onModuleInit(): void {
    if (!this.config.PREDICTION_STORE_ENABLED) return;
    this.unsubscribe = this.events.subscribe((batch) => this.enqueue(batch));
    this.timer = setInterval(() => void this.flush(), this.options.flushIntervalMs);
    this.timer.unref();
  }

  /** Rows queued (not requests). */
  get queued(): number {
    return this.queuedRows;
  }

  /**
   * The listener: never throws, never awaits. It formats and encodes the request's rows now, while
   * their objects are young: queued as JS values until the write returns, they survived the garbage
   * collections they met (copied, then marked), which cost more than the formatting itself
   * (docs/performance.md, pass 5: 100-row requests +40–50 % once the records no longer waited).
   */
  enqueue(batch: PredictionBatch): void {
    const rows = batch.rows;
    if (rows === 0) return;
    const room = this.options.queueMax - this.queuedRows;
    if (room < rows) {
      this.metrics.predictionStoreDropped.inc({ reason: 'queue_full' }, rows - Math.max(room, 0));
      // What fits of the request (its first rows).
      if (room > 0) this.push(batch.slice(room));
    } else this.push(batch);
    this.metrics.predictionStoreQueue.set(this.queuedRows);
    if (!this.flushSoon && (this.queue.length > 1 || this.queue[0]?.isFull(this.options) === true)) {
      this.flushSoon = true;
      setImmediate(() => {
        this.flushSoon = false;
        void this.flush(false);
      });
    }
  }

  /**
   * Writes what is queued, one segment after another, until the queue is empty or a write fails;
   * with `all` false (a segment filled up), only full segments: the open one waits to fill up or for
   * the timer, so that a write is never a request or two (one `postMessage` and one transaction per
   * write cost more than the rows themselves). Concurrent callers share the same run. Never throws.
   */
  flush(all = true): Promise<void> {
    if (all) this.drainAll = true;
    if (!this.flushing) {
      this.flushing = this.drain().finally(() => {
        this.flushing = undefined;
        this.drainAll = false;
      });
    }
    return this.flushing;
  }

  /** Writes everything queued now, waiting out the backoff (feedback lookups and shutdown use it). */
  async flushNow(deadlineMs = 5000): Promise<void> {
    const deadline = Date.now() + deadlineMs;
    this.nextAttemptAt = 0;
    while (this.queue.length > 0 && Date.now() < deadline) {
      await this.flush();
      if (this.queue.length > 0) await new Promise((resolve) => setTimeout(resolve, 50));
      this.nextAttemptAt = 0;
    }
  }

  private push(batch: PredictionBatch): void {
    const values = batchValues(this.privacy.isNoop ? batch : batch.withInputs(this.stored));
    let open = this.queue.at(-1);
    // The request that fills a segment goes in whole.
    if (open === undefined || open.sealed || open.isFull(this.options)) {
      open = new Segment(this.spare.pop() ?? new SqlValueBuffer(SEGMENT_INITIAL_BYTES, true));
      this.queue.push(open);
    }
    open.values.append(values);
    open.batches += 1;
    open.rows += batch.rows;
    this.queuedRows += batch.rows;
  }

  /** Removes the oldest segment (`rows` rows) from the queue. */
  private shift(rows: number): void {
    // Written, or given up: the writer thread is done reading its bytes.
    const values = this.queue.shift()?.values;
    if (
      values !== undefined &&
      this.spare.length < SPARE_BUFFERS &&
      values.capacity <= SPARE_BUFFER_MAX_BYTES
    ) {
      values.clear();
      this.spare.push(values);
    }
    this.queuedRows -= rows;
    this.metrics.predictionStoreQueue.set(this.queuedRows);
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0 && Date.now() >= this.nextAttemptAt) {
      const segment = this.queue[0]!;
      // Only the last segment can still fill up.
      if (!this.drainAll && this.queue.length === 1 && !segment.isFull(this.options)) break;
      segment.sealed = true;
      const rows = segment.rows;
      try {
        await this.store.insertEncoded(segment);
      } catch (error) {
        this.onWriteFailure(error, rows);
        return;
      }
      this.shift(rows);
      this.consecutiveFailures = 0;
      this.batchAttempts = 0;
      this.metrics.predictionStoreWritten.inc(rows);
    }
    this.startRetentionIfDue();
  }

  private onWriteFailure(error: unknown, rows: number): void {
    this.consecutiveFailures += 1;
    this.batchAttempts += 1;
    const retryable = isConnectionError(error);
    if (!retryable && this.batchAttempts >= MAX_ATTEMPTS_ON_BAD_DATA) {
      this.shift(rows);
      this.batchAttempts = 0;
      this.metrics.predictionStoreDropped.inc({ reason: 'write_failed' }, rows);
    }
    const backoff = Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** (this.consecutiveFailures - 1));
    this.nextAttemptAt = Date.now() + backoff;
    if (this.consecutiveFailures === 1 || this.consecutiveFailures % 10 === 0) {
      this.logger.warn('Prediction store write failed; predictions stay queued', {
        'event.action': 'prediction-store-write-failed',
        'error.message': error instanceof Error ? error.message : String(error),
        'vigil.queue_rows': this.queuedRows,
        'vigil.retry_in_ms': backoff,
        'vigil.retryable': retryable,
      });
    }
  }

  private readonly stored = (inputs: Record<string, number | string>): Record<string, number | string> =>
    this.privacy.apply(inputs);

  /**
   * Starts retention when it is due, beside the flushes: it can take seconds on a large store (in
   * steps), and a flush that waited for it held every feedback request that long (`flushNow`).
   */
  private startRetentionIfDue(): void {
    const now = Date.now();
    if (this.retention !== undefined || now - this.lastRetention < RETENTION_INTERVAL_MS) return;
    this.lastRetention = now;
    this.retention = this.applyRetention(now).finally(() => {
      this.retention = undefined;
    });
  }

  private async applyRetention(now: number): Promise<void> {
    try {
      const deleted = await this.store.applyRetention(
        now - this.config.PREDICTION_RETENTION_DAYS * 86_400_000,
        this.config.PREDICTION_RETENTION_ROWS,
        this.stopRetention.signal,
      );
      if (deleted > 0)
        this.logger.info(`Prediction store retention removed ${deleted} prediction(s)`, {
          'event.action': 'prediction-store-retention',
        });
    } catch (error) {
      this.logger.warn('Prediction store retention failed', {
        'event.action': 'prediction-store-retention',
        'error.message': error instanceof Error ? error.message : String(error),
      });
    }
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
    if (this.timer) clearInterval(this.timer);
    this.stopRetention.abort();
  }

  /** Before the database closes: write what is queued (bounded by SHUTDOWN_TIMEOUT_MS). */
  async beforeApplicationShutdown(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    if (this.timer) clearInterval(this.timer);
    // Retention stops at its next step; the database must not close under it.
    this.stopRetention.abort();
    await this.retention;
    await this.flushNow(Math.max(1000, this.config.SHUTDOWN_TIMEOUT_MS / 2));
    if (this.queuedRows > 0) {
      this.metrics.predictionStoreDropped.inc({ reason: 'write_failed' }, this.queuedRows);
      this.logger.warn(`Prediction store: ${this.queuedRows} prediction(s) not written at shutdown`, {
        'event.action': 'prediction-store-shutdown',
      });
      this.queue = [];
      this.queuedRows = 0;
    }
  }
}
