import { makeConfig } from '../../src/config/config';
import type { SqlDatabase } from '../../src/database/sql-database';
import { PredictionRecorder, isConnectionError } from '../../src/monitoring/prediction-recorder.service';
import { type EncodedBatches, PredictionStore } from '../../src/monitoring/prediction.store';
import {
  PredictionBatch,
  type PredictionRecord,
  PredictionEvents,
} from '../../src/prediction/prediction-events';
import { AppLogger, type LogFields, type LogLevel } from '../../src/telemetry/logger';
import { Metrics } from '../../src/telemetry/metrics';
import { PrivacyPolicy } from '../../src/telemetry/privacy';
import { type MonitoringTestDatabase, openMonitoringDatabase } from './monitoring-support';

class CapturingLogger extends AppLogger {
  readonly lines: { level: LogLevel; message: string; fields: LogFields }[] = [];
  protected override write(level: LogLevel, message: string, fields: LogFields): void {
    this.lines.push({ level, message, fields });
  }
}

/** The real store, with a switch that makes writes fail as a restarting PostgreSQL does. */
class FlakyStore extends PredictionStore {
  failWith: Error | undefined;
  attempts = 0;
  /** Rows per write. */
  readonly writes: number[] = [];
  /** While set, writes wait for it before reaching the database (a write in flight). */
  hold: Promise<void> | undefined;
  /** While set, retention runs wait for it (a long retention run). */
  retentionHold: Promise<void> | undefined;
  readonly retentionSignals: (AbortSignal | undefined)[] = [];
  override async applyRetention(cutoffMs: number, maxRows: number, signal?: AbortSignal): Promise<number> {
    this.retentionSignals.push(signal);
    await this.retentionHold;
    return super.applyRetention(cutoffMs, maxRows, signal);
  }
  override async insertEncoded(encoded: EncodedBatches): Promise<void> {
    this.attempts += 1;
    this.writes.push(encoded.rows);
    if (this.failWith) throw this.failWith;
    // The caller's bytes are read now, as the real store does, not once the write is let through.
    const write = super.insertEncoded({ ...encoded, bytes: new Uint8Array(encoded.bytes) });
    await this.hold;
    return write;
  }
}

/** Emits records as the batches they form (a request's run of ids, or one each). */
class RecordEvents extends PredictionEvents {
  emitRecords(records: readonly PredictionRecord[]): void {
    for (const batch of PredictionBatch.fromRecords(records)) this.emit(batch);
  }
}

function connectionError(): Error {
  return Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });
}

let sequence = 0;
function makeRecord(overrides: Partial<PredictionRecord> = {}): PredictionRecord {
  sequence += 1;
  return {
    predictionId: `rec-${sequence}`,
    requestId: `req-${sequence}`,
    timestamp: Date.now(),
    model: 'credit',
    version: 1,
    inputs: { income: 50_000, name: 'Ada', city: 'Paris' },
    label: 'no',
    probabilities: [0.9, 0.1],
    score: 0.1,
    latencyMs: 2,
    ...overrides,
  };
}

/** The records of one request, ids `<prefix>-<row>` as the prediction service makes them. */
function makeRequest(rows: number, overrides: Partial<PredictionRecord> = {}): PredictionRecord[] {
  const shared = makeRecord(overrides);
  return Array.from({ length: rows }, (_, row) => ({
    ...shared,
    predictionId: `${shared.predictionId}-${row}`,
  }));
}

async function counter(metrics: Metrics, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = (await metrics.registry.getMetricsAsJSON()).find((entry) => entry.name === name);
  const value = metric?.values.find((entry) =>
    Object.entries(labels).every(([key, expected]) => entry.labels[key] === expected),
  );
  return Number(value?.value ?? 0);
}

describe('PredictionRecorder (SQLite)', () => {
  let handle: MonitoringTestDatabase;
  let database: SqlDatabase;

  beforeAll(async () => {
    handle = await openMonitoringDatabase('sqlite', 'monitoring_recorder');
    database = handle.database;
  });
  afterAll(async () => {
    await handle.cleanup();
  });

  function build(overrides: Record<string, string | number | boolean> = {}) {
    const config = makeConfig({
      PRIVACY_DROP_FIELDS: 'name',
      PRIVACY_HASH_FIELDS: 'city',
      PRIVACY_HASH_SALT: 's',
      ...overrides,
    });
    const events = new RecordEvents();
    const store = new FlakyStore(database);
    const metrics = new Metrics();
    const logger = new CapturingLogger();
    const recorder = new PredictionRecorder(
      events,
      store,
      new PrivacyPolicy(config),
      metrics,
      config,
      logger,
    );
    recorder.onModuleInit();
    return { recorder, events, store, metrics, logger };
  }

  it('stores what the prediction path emits, with the privacy policy applied', async () => {
    const { recorder, events, metrics } = build();
    const records = [
      makeRecord({ model: 'priv' }),
      makeRecord({ model: 'priv', traceId: 'abc', outOfRange: ['income'] }),
    ];
    events.emitRecords(records);
    expect(recorder.queued).toBe(2);
    await recorder.flushNow();
    const rows = await database.query<{
      batch_id: string;
      inputs: string;
      trace_id: string | null;
      out_of_range: string | null;
    }>(
      `SELECT batch_id, inputs, trace_id, out_of_range FROM prediction_batches WHERE model_name = 'priv' ORDER BY batch_id`,
    );
    expect(rows).toHaveLength(2);
    const [inputs] = JSON.parse(rows[0]!.inputs);
    expect(inputs).not.toHaveProperty('name');
    expect(inputs.city).toMatch(/^[0-9a-f]{64}$/);
    expect(inputs.income).toBe(50_000);
    expect(rows.find((row) => row.trace_id === 'abc')?.out_of_range).toBe('[["income"]]');
    expect(await counter(metrics, 'vigil_prediction_store_written_total')).toBe(2);
    expect(await counter(metrics, 'vigil_prediction_store_queue_rows')).toBe(0);
    recorder.onModuleDestroy();
  });

  it('never splits a request across two writes: the segment takes the request that fills it whole', async () => {
    const { recorder, events, store, metrics } = build();
    // 4,000 rows fill a segment whatever its requests: the third request straddles that.
    for (const rows of [1500, 1500, 1500, 300]) events.emitRecords(makeRequest(rows, { model: 'slices' }));
    expect(recorder.queued).toBe(4800);
    await recorder.flushNow();
    expect(store.writes).toEqual([4500, 300]);
    const rows = await database.query<{ batch_id: string; row_count: number }>(
      `SELECT batch_id, row_count FROM prediction_batches WHERE model_name = 'slices' ORDER BY batch_id`,
    );
    expect(rows.map((row) => Number(row.row_count))).toEqual([1500, 1500, 1500, 300]);
    expect(await counter(metrics, 'vigil_prediction_store_written_total')).toBe(4800);
    recorder.onModuleDestroy();
  });

  it('writes what arrives during a write in the next one: nothing lost, nothing twice', async () => {
    const { recorder, events, store, metrics } = build();
    let release!: () => void;
    store.hold = new Promise((resolve) => (release = resolve));
    events.emitRecords(makeRequest(3, { model: 'in-flight' }));
    const first = recorder.flush();
    await new Promise(setImmediate);
    events.emitRecords(makeRequest(2, { model: 'in-flight' }));
    events.emitRecords([makeRecord({ model: 'in-flight' })]);
    expect(recorder.queued).toBe(6);
    release();
    await first;
    await recorder.flushNow();
    expect(store.writes).toEqual([3, 3]);
    const rows = await database.query<{ row_count: number }>(
      `SELECT row_count FROM prediction_batches WHERE model_name = 'in-flight' ORDER BY ts_ms, batch_id`,
    );
    expect(rows.map((row) => Number(row.row_count)).sort()).toEqual([1, 2, 3]);
    expect(await counter(metrics, 'vigil_prediction_store_written_total')).toBe(6);
    expect(recorder.queued).toBe(0);
    recorder.onModuleDestroy();
  });

  it('writes full segments when one fills up, and leaves the open one to fill up or for the timer', async () => {
    const { recorder, events, store } = build();
    let release!: () => void;
    store.hold = new Promise((resolve) => (release = resolve));
    // 500 rows fill a segment once it holds 16 requests.
    for (let request = 0; request < 16; request += 1)
      events.emitRecords(makeRequest(32, { model: 'full-only' }));
    await new Promise(setImmediate); // the filled segment's write starts, and is held
    expect(store.writes).toEqual([512]);
    events.emitRecords(makeRequest(32, { model: 'full-only' }));
    events.emitRecords(makeRequest(32, { model: 'full-only' }));
    const running = recorder.flush(false);
    release();
    await running;
    // Not one write per request or two that arrived meanwhile: they wait in the open segment.
    expect(store.writes).toEqual([512]);
    expect(recorder.queued).toBe(64);
    await recorder.flushNow(); // a timer's or a feedback lookup's flush writes the open segment too
    expect(store.writes).toEqual([512, 64]);
    expect(recorder.queued).toBe(0);
    recorder.onModuleDestroy();
  });

  it('fills a segment with 500 single rows, but waits for 16 requests when they are large', async () => {
    const { recorder, events, store } = build();
    for (let request = 0; request < 499; request += 1) events.emitRecords(makeRequest(1, { model: 'rule' }));
    await new Promise(setImmediate);
    expect(store.writes).toEqual([]);
    events.emitRecords(makeRequest(1, { model: 'rule' }));
    await new Promise(setImmediate);
    expect(store.writes).toEqual([500]);
    // Five requests of 100 rows: 500 rows, but each write's fixed cost for five requests only.
    for (let request = 0; request < 5; request += 1) events.emitRecords(makeRequest(100, { model: 'rule' }));
    await recorder.flush(false); // the write under way, then full segments only: none
    expect(store.writes).toEqual([500]);
    expect(recorder.queued).toBe(500);
    for (let request = 5; request < 16; request += 1) events.emitRecords(makeRequest(100, { model: 'rule' }));
    await new Promise(setImmediate);
    expect(store.writes).toEqual([500, 1600]);
    await recorder.flush(false);
    expect(recorder.queued).toBe(0);
    recorder.onModuleDestroy();
  });

  it('stores round after round of requests of different sizes: every row once and as sent', async () => {
    const { recorder, events, store } = build();
    const sent = new Map<string, number>();
    for (let round = 0; round < 4; round += 1) {
      // Rounds of different sizes and value lengths, a longer one after a shorter.
      const requests = [700, 150, 900, 40][round]!;
      for (let index = 0; index < requests; index += 1) {
        const income = round * 10_000 + index;
        const [record] = makeRequest(1, {
          model: 'refilled',
          inputs: { income, name: 'x', city: 'y'.repeat(index % 50) },
        });
        sent.set(record!.requestId, income);
        events.emitRecords([record!]);
      }
      await recorder.flushNow();
    }
    expect(store.writes.reduce((total, rows) => total + rows, 0)).toBe(sent.size);
    const rows = await database.query<{ request_id: string; inputs: string }>(
      `SELECT request_id, inputs FROM prediction_batches WHERE model_name = 'refilled'`,
    );
    expect(rows).toHaveLength(sent.size);
    const stored = new Map(
      rows.map((row) => [row.request_id, (JSON.parse(row.inputs) as { income: number }[])[0]!.income]),
    );
    expect(stored).toEqual(sent);
    recorder.onModuleDestroy();
  });

  it('never makes a flush wait for retention, and stops retention at shutdown', async () => {
    const { recorder, events, store } = build();
    let release!: () => void;
    store.retentionHold = new Promise((resolve) => (release = resolve));
    events.emitRecords(makeRequest(2, { model: 'beside-retention' }));
    await recorder.flush(); // the first flush starts retention: it is due at startup
    expect(store.retentionSignals).toHaveLength(1);
    events.emitRecords(makeRequest(3, { model: 'beside-retention' }));
    await recorder.flushNow(); // what feedback lookups wait for: not the retention still running
    expect(store.writes).toEqual([2, 3]);
    expect(await store.countPredictions('beside-retention')).toBe(5);
    const shutdown = recorder.beforeApplicationShutdown();
    expect(store.retentionSignals[0]?.aborted).toBe(true);
    release();
    await shutdown;
    expect(store.retentionSignals).toHaveLength(1);
  });

  it('drops and counts what does not fit in the queue', async () => {
    const { recorder, events, metrics } = build({ PREDICTION_STORE_QUEUE_MAX: 3 });
    events.emitRecords([makeRecord(), makeRecord()]);
    events.emitRecords([makeRecord(), makeRecord(), makeRecord()]);
    expect(recorder.queued).toBe(3);
    expect(await counter(metrics, 'vigil_prediction_store_dropped_total', { reason: 'queue_full' })).toBe(2);
    await recorder.flushNow();
    recorder.onModuleDestroy();
  });

  it('keeps predictions queued while the database is down, and writes them when it is back', async () => {
    const { recorder, events, store, metrics, logger } = build();
    store.failWith = connectionError();
    const records = Array.from({ length: 7 }, () => makeRecord({ model: 'outage' }));
    events.emitRecords(records);
    await recorder.flush();
    await recorder.flush(); // within the backoff: not even attempted
    expect(store.attempts).toBe(1);
    expect(recorder.queued).toBe(7);
    expect(logger.lines.some((line) => line.fields['event.action'] === 'prediction-store-write-failed')).toBe(
      true,
    );
    store.failWith = undefined;
    await recorder.flushNow();
    expect(recorder.queued).toBe(0);
    const [row] = await database.query<{ count: number }>(
      `SELECT SUM(row_count) AS count FROM prediction_batches WHERE model_name = 'outage'`,
    );
    expect(row!.count).toBe(7);
    expect(await counter(metrics, 'vigil_prediction_store_dropped_total', { reason: 'write_failed' })).toBe(
      0,
    );
    recorder.onModuleDestroy();
  });

  it('gives up on a batch the database keeps refusing for another reason', async () => {
    const { recorder, events, store, metrics } = build();
    store.failWith = new Error('value too long for type character varying');
    events.emitRecords([makeRecord(), makeRecord()]);
    for (let attempt = 0; attempt < 3; attempt += 1) await recorder.flushNow(50);
    expect(recorder.queued).toBe(0);
    expect(await counter(metrics, 'vigil_prediction_store_dropped_total', { reason: 'write_failed' })).toBe(
      2,
    );
    recorder.onModuleDestroy();
  });

  it('flushes on shutdown', async () => {
    const { recorder, events } = build();
    events.emitRecords([makeRecord({ model: 'shutdown' })]);
    recorder.onModuleDestroy();
    events.emitRecords([makeRecord({ model: 'shutdown' })]); // after unsubscribe: not recorded
    await recorder.beforeApplicationShutdown();
    const [row] = await database.query<{ count: number }>(
      `SELECT SUM(row_count) AS count FROM prediction_batches WHERE model_name = 'shutdown'`,
    );
    expect(row!.count).toBe(1);
  });

  it('is off when PREDICTION_STORE_ENABLED=false', () => {
    const { recorder, events } = build({ PREDICTION_STORE_ENABLED: false });
    events.emitRecords([makeRecord()]);
    expect(recorder.queued).toBe(0);
  });
});

describe('isConnectionError', () => {
  it.each([
    ['code ECONNREFUSED', true, { code: 'ECONNREFUSED' }],
    ['code 57P01 (admin shutdown)', true, { code: '57P01' }],
    ['code 08006 (connection failure)', true, { code: '08006' }],
    ['pg "Connection terminated"', true, { message: 'Connection terminated unexpectedly' }],
    ['pg pool connect timeout', true, { message: 'timeout exceeded when trying to connect' }],
    ['code 23505 (unique violation)', false, { code: '23505', message: 'duplicate key' }],
  ] as [string, boolean, { code?: string; message?: string }][])(
    '%s (retryable: %s)',
    (_name, expected, fields) => {
      expect(isConnectionError(Object.assign(new Error(fields.message ?? 'x'), fields))).toBe(expected);
    },
  );
});
