import { Worker } from 'node:worker_threads';

/**
 * `readSqlValues` (`database/sql-value-buffer.ts`) as plain JavaScript for the worker, which cannot
 * load TypeScript under Jest. `sql-value-buffer.spec.ts` checks the two read the same values. With
 * `asBytes`, the texts of the values it names (by position) come back as views of their UTF-8 bytes.
 */
export const READ_SQL_VALUES_SOURCE = `
function readSqlValues(bytes, asBytes) {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const values = [];
  let at = 0;
  while (at < buffer.length) {
    const tag = buffer[at];
    if (tag === 0) {
      values.push(null);
      at += 1;
    } else if (tag === 1) {
      values.push(buffer.readDoubleLE(at + 1));
      at += 9;
    } else if (tag === 2) {
      const end = at + 5 + buffer.readUInt32LE(at + 1);
      values.push(
        asBytes !== undefined && asBytes(values.length)
          ? buffer.subarray(at + 5, end)
          : buffer.toString('utf8', at + 5, end),
      );
      at = end;
    } else {
      throw new Error('corrupt SQL value buffer: tag ' + tag + ' at byte ' + at);
    }
  }
  return values;
}`;

/**
 * The worker's code, evaluated as a CommonJS script (no compiled file to locate: the same under `dist/`
 * and under Jest). It opens its own connection to the same SQLite file (WAL: the main thread's
 * connection keeps reading while this one writes) and inserts each message's rows in one
 * `BEGIN IMMEDIATE` transaction. A sync busy wait is harmless here: it blocks this thread, not the
 * event loop serving requests.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
${READ_SQL_VALUES_SOURCE}
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.pragma('busy_timeout = ' + workerData.busyTimeoutMs);
// The file's checkpoints run on this thread: after its own commits (SQLite's, at 1,000 pages) and, for
// what the main thread's connection writes (it does not checkpoint while this thread runs), on a timer.
// PASSIVE: it copies what no reader still needs and never waits; with nothing new it costs a read.
const checkpoints = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // Busy (another checkpoint) or closing: the next tick tries again.
  }
}, workerData.checkpointIntervalMs);
const columns = workerData.columns;
// Texts cross as their UTF-8 bytes, bound as blobs and cast back to text by SQLite: no JS string
// made of each, then encoded again to bind it (a tenth of this thread's CPU, 14 % with 100-row requests).
const texts = columns.map((column) => workerData.textColumns.includes(column));
const textAt = (index) => texts[index % columns.length];
const rowSlots = '(' + columns.map((column, index) => (texts[index] ? 'CAST(? AS TEXT)' : '?')).join(', ') + ')';
// Two statements per size. \`OR IGNORE\` first: no statement of it can abort halfway, so SQLite
// keeps no statement journal for it (that journal, a copy of every page the statement touched, was
// 12 % of this thread's CPU). It also skips a row that breaks a NOT NULL constraint, so when rows
// were skipped the same rows go again through the strict statement: a duplicate (a retried batch)
// is then nothing, a bad row throws, and the whole transaction rolls back, as before.
const statements = new Map();
function statement(rows, strict) {
  const key = strict ? -rows : rows;
  let prepared = statements.get(key);
  if (prepared === undefined) {
    prepared = db.prepare(
      (strict ? 'INSERT INTO' : 'INSERT OR IGNORE INTO') + ' prediction_batches (' + columns.join(', ') +
        ') VALUES ' + new Array(rows).fill(rowSlots).join(', ') +
        (strict ? ' ON CONFLICT (' + columns[0] + ') DO NOTHING' : ''),
    );
    statements.set(key, prepared);
  }
  return prepared;
}
const insert = db.transaction((sizes, params) => {
  const width = columns.length;
  let at = 0;
  for (const size of sizes) {
    const values = params.slice(at, at + size * width);
    if (statement(size, false).run(values).changes < size) statement(size, true).run(values);
    at += size * width;
  }
});
parentPort.on('message', (message) => {
  if (message.close) {
    clearInterval(checkpoints);
    db.close();
    parentPort.postMessage({ id: message.id });
    return;
  }
  try {
    insert.immediate(message.sizes, readSqlValues(message.bytes, textAt));
    parentPort.postMessage({ id: message.id });
  } catch (error) {
    parentPort.postMessage({ id: message.id, error: { message: String(error && error.message), code: error && error.code } });
  }
});
`;

interface Reply {
  id: number;
  error?: { message: string; code?: unknown };
}

/** An error from the writer thread, with SQLite's `code` (SQLITE_BUSY …) for the recorder's retry rule. */
export class PredictionWriterError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'PredictionWriterError';
  }
}

export interface SqlitePredictionWriterOptions {
  file: string;
  /** The `prediction_batches` columns each row's values come in; the first is the key. */
  columns: readonly string[];
  /** Columns of text (or null): their values are bound as UTF-8 bytes, cast to text in the SQL. */
  textColumns?: readonly string[];
  busyTimeoutMs?: number;
  /** How often the worker checkpoints the WAL (`PASSIVE`), for the other connections' writes. */
  checkpointIntervalMs?: number;
  /** Called with true when the worker starts, false when it stops (closed or crashed). */
  onRunning?: (running: boolean) => void;
}

/** How often the worker checkpoints what the main connection's commits add to the WAL. */
const CHECKPOINT_INTERVAL_MS = 1000;

/**
 * Inserts prediction batches (one SQL row per request) into a SQLite file from a `worker_threads`
 * worker, so that SQLite's CPU per row (four indexes) is spent on another core, not on the event loop.
 * The main thread only hands over the batches' values, already encoded (`SqlValueBuffer`, 13 values a
 * batch): in shared memory (the recorder's segments), or one copy of their bytes, transferred. The
 * worker starts on first use and again after a crash (pending writes then fail and are retried by
 * the recorder; inserts are idempotent).
 */
export class SqlitePredictionWriter {
  private worker: Worker | undefined;
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();

  constructor(private readonly options: SqlitePredictionWriterOptions) {}

  /**
   * Inserts the values `bytes` encode (`SqlValueBuffer`: batches × columns values) as multi-row
   * statements of `sizes` rows, in one transaction. `bytes` stays the caller's: a copy crosses, unless
   * they are in a `SharedArrayBuffer`, which the worker reads in place (the caller then leaves them
   * alone until the promise settles).
   */
  insert(sizes: readonly number[], bytes: Uint8Array): Promise<void> {
    if (bytes.buffer instanceof SharedArrayBuffer) return this.send({ sizes, bytes });
    const copy = new Uint8Array(bytes);
    return this.send({ sizes, bytes: copy }, [copy.buffer]);
  }

  /** Closes the worker's connection and stops it; later inserts start a new one. */
  async close(): Promise<void> {
    const worker = this.worker;
    if (worker === undefined) return;
    try {
      await this.send({ close: true });
    } catch {
      // Already gone: nothing to close.
    }
    this.worker = undefined;
    this.options.onRunning?.(false);
    await worker.terminate();
  }

  private send(message: object, transfer: ArrayBuffer[] = []): Promise<void> {
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, ...message }, transfer);
    });
  }

  private start(): Worker {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      // It holds one message at a time: a small heap keeps the process's memory down (measured: the
      // default limits let this thread grow by ~40 MB under load).
      resourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 64 },
      workerData: {
        file: this.options.file,
        columns: this.options.columns,
        textColumns: this.options.textColumns ?? [],
        busyTimeoutMs: this.options.busyTimeoutMs ?? 5000,
        checkpointIntervalMs: this.options.checkpointIntervalMs ?? CHECKPOINT_INTERVAL_MS,
        driver: require.resolve('better-sqlite3'),
      },
    });
    // Never keeps the process alive: the recorder flushes before shutdown and then closes it.
    worker.unref();
    worker.on('message', (reply: Reply) => {
      const waiter = this.pending.get(reply.id);
      if (waiter === undefined) return;
      this.pending.delete(reply.id);
      if (reply.error === undefined) waiter.resolve();
      else
        waiter.reject(
          new PredictionWriterError(
            reply.error.message,
            typeof reply.error.code === 'string' ? reply.error.code : undefined,
          ),
        );
    });
    const fail = (error: Error): void => {
      if (this.worker === worker) {
        this.worker = undefined;
        this.options.onRunning?.(false);
      }
      for (const waiter of this.pending.values()) waiter.reject(error);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new PredictionWriterError(`prediction writer exited (${code})`)));
    this.worker = worker;
    this.options.onRunning?.(true);
    return worker;
  }
}
