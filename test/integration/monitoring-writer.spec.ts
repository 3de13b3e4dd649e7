import { statSync } from 'node:fs';
import { SqlValueBuffer } from '../../src/database/sql-value-buffer';
import type { SqliteDatabase } from '../../src/database/sqlite.database';
import { PredictionStore } from '../../src/monitoring/prediction.store';
import { PredictionWriterError, SqlitePredictionWriter } from '../../src/monitoring/sqlite-prediction.writer';
import {
  type MonitoringTestDatabase,
  makeStoredPrediction,
  openMonitoringDatabase,
} from './monitoring-support';

/** The NOT NULL columns of `prediction_batches`, the last of them `labels`. */
const REQUIRED_COLUMNS = [
  'batch_id',
  'request_id',
  'ts_ms',
  'model_name',
  'version',
  'row_count',
  'inputs',
  'probabilities',
  'latency_ms',
  'labels',
];

describe('SqlitePredictionWriter (prediction store inserts on a worker thread)', () => {
  let handle: MonitoringTestDatabase;
  let store: PredictionStore;

  beforeAll(async () => {
    handle = await openMonitoringDatabase('sqlite', 'monitoring_writer');
    store = new PredictionStore(handle.database);
  });
  afterAll(async () => {
    await store.onApplicationShutdown();
    await handle.cleanup();
  });

  it('writes from another thread; the rows are readable on the main connection once the insert resolves', async () => {
    const predictions = Array.from({ length: 300 }, (_, index) =>
      makeStoredPrediction({ model: 'threaded', timestamp: 50_000 + index, score: index / 300 }),
    );
    await store.insertPredictions(predictions);
    await store.insertPredictions(predictions.slice(0, 5)); // a retried batch: idempotent
    expect(await store.countPredictions('threaded')).toBe(300);
    const found = await store.findPredictions([predictions[299]!.predictionId]);
    expect(found).toEqual([expect.objectContaining({ model: 'threaded', timestamp: 50_299 })]);
  });

  it('writes from shared bytes, and is done with them when the insert resolves', async () => {
    const writer = new SqlitePredictionWriter({
      file: (handle.database as SqliteDatabase).file,
      columns: REQUIRED_COLUMNS,
    });
    const values = new SqlValueBuffer(1024, true);
    const row = (id: string): (string | number)[] => [
      id,
      `r-${id}`,
      9,
      'shared',
      1,
      1,
      '[]',
      '[]',
      0.5,
      '[]',
    ];
    values.append(row('shared-1'));
    await writer.insert([1], values.bytes());
    // Reused at once, as the recorder reuses a written segment's buffer: the row written stays as it was.
    values.clear();
    values.append(row('shared-2'));
    await writer.insert([1], values.bytes());
    await writer.close();
    const rows = await handle.database.query<{ batch_id: string }>(
      `SELECT batch_id FROM prediction_batches WHERE model_name = 'shared' ORDER BY batch_id`,
    );
    expect(rows.map((found) => found.batch_id)).toEqual(['shared-1', 'shared-2']);
  });

  it('binds text columns as UTF-8 bytes, stored as text; other columns keep their type', async () => {
    const writer = new SqlitePredictionWriter({
      file: (handle.database as SqliteDatabase).file,
      columns: [...REQUIRED_COLUMNS, 'trace_id'],
      textColumns: ['batch_id', 'request_id', 'model_name', 'inputs', 'probabilities', 'labels', 'trace_id'],
    });
    const values = new SqlValueBuffer();
    values.append([
      'bytes-1',
      'r-1',
      11,
      'bytes',
      2,
      1,
      '[{"city":"Zürich 北京"}]',
      '[[0.5,0.5]]',
      1.5,
      '["é"]',
      null,
    ]);
    await writer.insert([1], values.bytes());
    await writer.close();
    const [stored] = await handle.database.query<Record<string, unknown>>(
      `SELECT typeof(batch_id) AS id_type, typeof(inputs) AS inputs_type, typeof(version) AS version_type,
              typeof(latency_ms) AS latency_type, trace_id, inputs, labels FROM prediction_batches
       WHERE model_name = 'bytes'`,
    );
    expect(stored).toEqual({
      id_type: 'text',
      inputs_type: 'text',
      version_type: 'integer',
      latency_type: 'real',
      trace_id: null,
      inputs: '[{"city":"Zürich 北京"}]',
      labels: '["é"]',
    });
  });

  it('rejects with the SQLite error code, then keeps writing', async () => {
    const writer = new SqlitePredictionWriter({
      file: (handle.database as SqliteDatabase).file,
      columns: ['batch_id', 'no_such_column'],
    });
    const values = new SqlValueBuffer();
    values.append(['x', 1]);
    const failed = writer.insert([1], values.bytes());
    await expect(failed).rejects.toBeInstanceOf(PredictionWriterError);
    await expect(failed).rejects.toMatchObject({ code: 'SQLITE_ERROR', message: /no_such_column/ });
    await writer.close();

    await store.insertPredictions([makeStoredPrediction({ model: 'after-error', timestamp: 1 })]);
    expect(await store.countPredictions('after-error')).toBe(1);
  });

  it('refuses a row that breaks a NOT NULL constraint, and writes none of its transaction', async () => {
    const writer = new SqlitePredictionWriter({
      file: (handle.database as SqliteDatabase).file,
      columns: REQUIRED_COLUMNS,
    });
    const row = (id: string, labels: string | null): (string | number | null)[] => [
      id,
      `request-${id}`,
      7,
      'not-null',
      1,
      1,
      '[]',
      '[]',
      0.5,
      labels,
    ];
    const values = new SqlValueBuffer();
    // One statement of two rows, the second bad; then a statement of one good row.
    values.append([...row('nn-1', '[]'), ...row('nn-2', null), ...row('nn-3', '[]')]);
    const failed = writer.insert([2, 1], values.bytes());
    await expect(failed).rejects.toMatchObject({ code: 'SQLITE_CONSTRAINT_NOTNULL', message: /labels/ });
    await writer.close();
    expect(await store.countPredictions('not-null')).toBe(0);
  });

  it("checkpoints the WAL on its thread while it runs, and the main connection's commits do not", async () => {
    const database = handle.database as SqliteDatabase;
    const autoCheckpoint = async (): Promise<number> =>
      (await database.query<{ wal_autocheckpoint: number }>('PRAGMA wal_autocheckpoint'))[0]!
        .wal_autocheckpoint;
    const walBytes = (): number => statSync(`${database.file}-wal`).size;
    await database.execute('CREATE TABLE IF NOT EXISTS scratch (payload BLOB)');
    // Ten commits of 1 MB on the main connection, 80 ms apart, with the WAL checkpointed between
    // them (the next commit then starts the WAL again from its beginning) or not.
    const writeFromMain = async (): Promise<void> => {
      for (let commit = 0; commit < 10; commit++) {
        await database.execute('INSERT INTO scratch (payload) VALUES ($1)', [Buffer.alloc(1 << 20, commit)]);
        await new Promise((resolve) => setTimeout(resolve, 80));
      }
    };
    const start = async (checkpointIntervalMs: number): Promise<SqlitePredictionWriter> => {
      const writer = new SqlitePredictionWriter({
        file: database.file,
        columns: REQUIRED_COLUMNS,
        checkpointIntervalMs,
        onRunning: (running) => database.checkpointOnCommit(!running),
      });
      const values = new SqlValueBuffer(1024);
      values.append([`ckpt-${checkpointIntervalMs}`, 'r', 9, 'ckpt', 1, 1, '[]', '[]', 0.5, '[]']);
      await writer.insert([1], values.bytes());
      return writer;
    };
    // The store's own writer ran for the tests above; stopped, it hands checkpoints back.
    expect(await autoCheckpoint()).toBe(0);
    await store.onApplicationShutdown();
    expect(await autoCheckpoint()).toBe(1000);

    const checkpointing = await start(20);
    expect(await autoCheckpoint()).toBe(0);
    await database.execute('PRAGMA wal_checkpoint(TRUNCATE)');
    await writeFromMain();
    expect(walBytes()).toBeLessThan(3 << 20);
    await checkpointing.close();
    expect(await autoCheckpoint()).toBe(1000);

    const idle = await start(3_600_000);
    await database.execute('PRAGMA wal_checkpoint(TRUNCATE)');
    await writeFromMain();
    expect(walBytes()).toBeGreaterThan(10 << 20);
    await idle.close();
    await database.execute('DROP TABLE scratch');
  });

  it('starts a new worker after close', async () => {
    await store.onApplicationShutdown();
    await store.insertPredictions([makeStoredPrediction({ model: 'reopened', timestamp: 2 })]);
    expect(await store.countPredictions('reopened')).toBe(1);
  });
});
