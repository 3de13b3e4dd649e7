import { performance } from 'node:perf_hooks';
import { OverloadedError } from '../common/errors';
import type { ColumnBuffer } from './column-buffers';

export interface BatcherOptions {
  /** false: every request runs as its own inference call, right away. */
  enabled: boolean;
  /** Rows per inference call; a single request with more rows runs alone. */
  maxBatchRows: number;
  /** 0: flush on the next event-loop turn (setImmediate), no timer. */
  maxDelayMs: number;
  /** Rows queued or running before `reserve` refuses with OverloadedError. */
  maxQueueRows: number;
}

/** What one inference call produced, shared by every request of the batch (each reads its rows). */
export interface BatchRun<TOutput> {
  output: TOutput;
  /** Rows in the call. */
  rows: number;
  /** Epoch milliseconds (with fraction) when the call started, and its duration. */
  startedAt: number;
  durationMs: number;
}

export interface BatchObserver {
  /** A batch is about to run; `waitsMs` holds each request's time in the queue. */
  batchStarting(rows: number, waitsMs: readonly number[]): void;
  batchFinished(rows: number, durationMs: number, failed: boolean): void;
  queueDepth(rows: number): void;
}

export type BatchRunner<TOutput> = (columns: readonly ColumnBuffer[], rows: number) => Promise<TOutput>;

interface Waiter<TOutput> {
  resolve: (run: BatchRun<TOutput>) => void;
  reject: (error: unknown) => void;
  enqueuedAt: number;
}

/** A set of input columns plus the requests whose rows sit in it. */
export class Batch<TOutput> {
  rows = 0;
  /** Runs alone (batching disabled, or a request larger than a batch): queued on submit. */
  dedicated = false;
  readonly waiters: Waiter<TOutput>[] = [];
  constructor(
    readonly columns: readonly ColumnBuffer[],
    readonly capacity: number,
  ) {}

  reset(): void {
    this.rows = 0;
    this.dedicated = false;
    this.waiters.length = 0;
  }
}

const NO_WAITS: readonly number[] = [];

/**
 * Dynamic batching for one loaded model version (Triton's model): concurrent requests write their rows
 * into the open batch's preallocated columns; the batch runs as ONE inference call on the next
 * event-loop turn (or after `maxDelayMs`), or as soon as it is full; the results are shared back.
 *
 * Usage, synchronously between the two calls: `const batch = reserve(n)`; write rows into
 * `batch.columns` at `batch.rows`; `submit(batch, n)` (or drop the batch when the rows were invalid).
 * Column buffers are pooled: nothing is allocated per request except the promise.
 */
export class MicroBatcher<TOutput> {
  private open: Batch<TOutput> | undefined;
  private queue: Batch<TOutput>[] = [];
  private readonly free: Batch<TOutput>[] = [];
  private spareLarge: Batch<TOutput> | undefined;
  private queuedRows = 0;
  private running = 0;
  private scheduled = false;
  private timer: NodeJS.Timeout | undefined;
  private idleWaiters: (() => void)[] = [];
  private readonly flushNow = (): void => {
    this.scheduled = false;
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.flush();
  };

  constructor(
    private readonly options: BatcherOptions,
    private readonly allocate: (capacity: number) => ColumnBuffer[],
    private readonly runner: BatchRunner<TOutput>,
    private readonly observer?: BatchObserver,
  ) {}

  /** Rows waiting or running. */
  get depth(): number {
    return this.queuedRows;
  }

  /** Nothing queued and nothing running. */
  get idle(): boolean {
    return this.queuedRows === 0 && this.running === 0;
  }

  /** The batch the caller writes `rows` rows into, at offset `batch.rows`. Throws OverloadedError. */
  reserve(rows: number): Batch<TOutput> {
    if (this.queuedRows > 0 && this.queuedRows + rows > this.options.maxQueueRows) {
      throw new OverloadedError('The inference queue');
    }
    if (!this.options.enabled || rows > this.options.maxBatchRows) return this.takeDedicated(rows);
    const open = this.open;
    if (open !== undefined && open.rows + rows <= open.capacity) return open;
    const batch = this.free.pop() ?? this.newBatch(this.options.maxBatchRows);
    this.open = batch;
    this.queue.push(batch);
    return batch;
  }

  /** Commits `rows` rows just written at `batch.rows`; resolves when their inference call finished. */
  submit(batch: Batch<TOutput>, rows: number): Promise<BatchRun<TOutput>> {
    return new Promise<BatchRun<TOutput>>((resolve, reject) => {
      batch.waiters.push({ resolve, reject, enqueuedAt: performance.now() });
      batch.rows += rows;
      this.queuedRows += rows;
      if (batch.dedicated) {
        this.queue.push(batch);
        if (!this.options.enabled) {
          this.flush();
          return;
        }
      }
      if (batch === this.open && batch.rows >= batch.capacity) this.open = undefined;
      this.schedule(batch.rows >= batch.capacity);
    });
  }

  /** Resolves once nothing is queued or running (used before releasing a retired model). */
  whenIdle(): Promise<void> {
    if (this.idle) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private schedule(full: boolean): void {
    if (this.scheduled) return;
    if (full || this.options.maxDelayMs <= 0) {
      this.scheduled = true;
      setImmediate(this.flushNow);
    } else if (this.timer === undefined) {
      this.timer = setTimeout(this.flushNow, this.options.maxDelayMs);
    }
  }

  private flush(): void {
    const batches = this.queue;
    if (batches.length === 0) return;
    this.queue = [];
    this.open = undefined;
    for (const batch of batches) {
      if (batch.rows === 0) this.recycle(batch);
      else void this.run(batch);
    }
  }

  private async run(batch: Batch<TOutput>): Promise<void> {
    const rows = batch.rows;
    const waiters = batch.waiters;
    this.running++;
    const startedAt = performance.now();
    if (this.observer !== undefined) {
      const waits = waiters.length === 0 ? NO_WAITS : waiters.map((waiter) => startedAt - waiter.enqueuedAt);
      this.observer.batchStarting(rows, waits);
      // Depth is reported per batch, not per request (a gauge update costs a label hash).
      this.observer.queueDepth(this.queuedRows);
    }
    let output: TOutput;
    try {
      output = await this.runner(batch.columns, rows);
    } catch (error) {
      this.finish(batch, rows, performance.now() - startedAt, true);
      for (const waiter of waiters.splice(0)) waiter.reject(error);
      this.recycle(batch);
      return;
    }
    const durationMs = performance.now() - startedAt;
    this.finish(batch, rows, durationMs, false);
    const result: BatchRun<TOutput> = {
      output,
      rows,
      startedAt: performance.timeOrigin + startedAt,
      durationMs,
    };
    for (let index = 0; index < waiters.length; index++) waiters[index]!.resolve(result);
    this.recycle(batch);
  }

  private finish(batch: Batch<TOutput>, rows: number, durationMs: number, failed: boolean): void {
    this.running--;
    this.queuedRows -= rows;
    this.observer?.batchFinished(rows, durationMs, failed);
    this.observer?.queueDepth(this.queuedRows);
    if (this.idle && this.idleWaiters.length > 0) {
      const waiting = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiting) resolve();
    }
  }

  private takeDedicated(rows: number): Batch<TOutput> {
    let batch: Batch<TOutput>;
    if (rows <= this.options.maxBatchRows) {
      batch = this.free.pop() ?? this.newBatch(this.options.maxBatchRows);
    } else if (this.spareLarge !== undefined && this.spareLarge.capacity >= rows) {
      batch = this.spareLarge;
      this.spareLarge = undefined;
    } else {
      batch = this.newBatch(rows);
    }
    batch.dedicated = true;
    return batch;
  }

  private newBatch(capacity: number): Batch<TOutput> {
    return new Batch<TOutput>(this.allocate(capacity), capacity);
  }

  private recycle(batch: Batch<TOutput>): void {
    batch.reset();
    if (batch.capacity === this.options.maxBatchRows) {
      // Keep as many standard batches as the queue bound can ever need, no more.
      if (
        this.free.length * this.options.maxBatchRows <
        this.options.maxQueueRows + this.options.maxBatchRows
      ) {
        this.free.push(batch);
      }
    } else if (this.spareLarge === undefined || batch.capacity > this.spareLarge.capacity) {
      this.spareLarge = batch;
    }
  }
}
