import { EventLoopSlicer } from '../../src/common/event-loop-slicer';
import { PredictionBatch } from '../../src/prediction/prediction-events';
import { turnsDuring } from '../support/event-loop-turns';
import {
  type FeedbackRow,
  PredictionStore,
  type StoredPrediction,
} from '../../src/monitoring/prediction.store';
import {
  DATABASE_KINDS,
  type MonitoringTestDatabase,
  makeRequestPredictions,
  makeStoredPrediction,
  monitoringMigrationsThrough,
  openMonitoringDatabase,
} from './monitoring-support';

/** Feedback labelling each of `predictions` `actual`, as `upsertFeedback` takes it. */
function feedbackFor(predictions: readonly StoredPrediction[], actual: string): FeedbackRow[] {
  return predictions.map((prediction) => ({
    predictionId: prediction.predictionId,
    model: prediction.model,
    version: prediction.version,
    actual,
    predictionTimestamp: prediction.timestamp,
  }));
}

describe.each(DATABASE_KINDS)('PredictionStore on %s', (kind) => {
  let handle: MonitoringTestDatabase;
  let store: PredictionStore;

  beforeAll(async () => {
    handle = await openMonitoringDatabase(kind, 'monitoring_store');
    store = new PredictionStore(handle.database);
  });
  afterAll(async () => {
    await handle.cleanup();
  });

  it('inserts batches idempotently, beyond one chunk', async () => {
    const predictions = Array.from({ length: 1203 }, (_, index) =>
      makeStoredPrediction({ model: 'bulk', timestamp: 10_000 + index }),
    );
    await store.insertPredictions(predictions);
    await store.insertPredictions(predictions.slice(0, 10));
    expect(await store.countPredictions('bulk')).toBe(1203);
  });

  it('reads the window in chunks: each prediction once, newest first, ties broken by id', async () => {
    // Three predictions per timestamp, so that the first chunk (64 batches) ends inside a tie.
    const predictions = Array.from({ length: 700 }, (_, index) =>
      makeStoredPrediction({
        model: 'chunked',
        predictionId: `chunk-${String(index).padStart(4, '0')}`,
        timestamp: 50_000 + Math.floor(index / 3),
      }),
    );
    await store.insertPredictions(predictions);
    const newest = [...predictions]
      .sort((a, b) => b.timestamp - a.timestamp || (a.predictionId < b.predictionId ? 1 : -1))
      .map((prediction) => prediction.predictionId);
    const window = await store.window('chunked', 1, 600);
    expect(window.map((row) => row.predictionId)).toEqual(newest.slice(0, 600));
    expect((await store.window('chunked', 1, 5000)).map((row) => row.predictionId)).toEqual(newest);
    expect(await store.window('chunked', 1, 10, 50_000 + 230)).toHaveLength(10);
  });

  it('gives the event loop turns while it reads and parses a window (SQLite answers without one)', async () => {
    await store.insertPredictions(
      Array.from({ length: 1100 }, (_, index) =>
        makeStoredPrediction({ model: 'sliced', timestamp: 70_000 + index }),
      ),
    );
    const sliced = await turnsDuring(() => store.window('sliced', 1, 1100, 0, new EventLoopSlicer(0)));
    expect(sliced.value).toHaveLength(1100);
    // Batch keys in 64 + 512 + 524, rows in 500 + 500 + 100, then a turn per batch parsed.
    expect(sliced.turns).toBeGreaterThan(1100);
    const whole = await turnsDuring(() => store.window('sliced', 1, 1100, 0, new EventLoopSlicer(60_000)));
    expect(whole.value).toEqual(sliced.value);
    if (kind === 'sqlite') expect(whole.turns).toBe(0);
  });

  it('returns the window newest first, with feedback joined', async () => {
    const predictions = Array.from({ length: 5 }, (_, index) =>
      makeStoredPrediction({ model: 'win', timestamp: 1000 + index, score: index / 10 }),
    );
    predictions.push(makeStoredPrediction({ model: 'win', version: 2, timestamp: 2000 }));
    await store.insertPredictions(predictions);
    await store.upsertFeedback(
      [
        {
          predictionId: predictions[4]!.predictionId,
          model: 'win',
          version: 1,
          actual: 'yes',
          predictionTimestamp: 1004,
        },
      ],
      5000,
    );
    const window = await store.window('win', 1, 3);
    expect(window.map((row) => row.timestamp)).toEqual([1004, 1003, 1002]);
    expect(window[0]).toMatchObject({ actual: 'yes', score: 0.4, label: 'no', probabilities: [0.8, 0.2] });
    expect(window[1]!.actual).toBeUndefined();
    expect(window[0]!.inputs).toEqual(predictions[4]!.inputs);
    expect((await store.window('win', 1, 10, 1003)).length).toBe(2);
  });

  it('records feedback once, reports corrections, and counts it', async () => {
    const prediction = makeStoredPrediction({ model: 'fb' });
    await store.insertPredictions([prediction]);
    const row = {
      predictionId: prediction.predictionId,
      model: 'fb',
      version: 1,
      actual: 'yes',
      predictionTimestamp: prediction.timestamp,
    };
    await expect(store.upsertFeedback([row], 100)).resolves.toEqual(['created']);
    await expect(store.upsertFeedback([row], 200)).resolves.toEqual(['unchanged']);
    await expect(store.upsertFeedback([{ ...row, actual: 'no' }], 300)).resolves.toEqual(['updated']);
    expect(await store.countFeedback('fb')).toBe(1);
    expect(await store.countFeedback('fb', 300)).toBe(0);
    await expect(store.labelledRows('fb', 10)).resolves.toEqual([
      { inputs: prediction.inputs, actual: 'no' },
    ]);
  });

  it('reads labelled rows in pages, newest first, ties broken by id, skipping feedback whose prediction is gone', async () => {
    // Two predictions a millisecond, so that page boundaries (2,000 feedback rows) fall inside ties.
    const predictions = Array.from({ length: 4300 }, (_, index) =>
      makeStoredPrediction({
        model: 'paged',
        predictionId: `paged-${String(index).padStart(5, '0')}`,
        timestamp: 90_000 + Math.floor(index / 2),
        inputs: { income: index, housing: 'own' },
      }),
    );
    await store.insertPredictions(predictions);
    await store.upsertFeedback(feedbackFor(predictions, 'yes'), 1);
    // Feedback on predictions no longer stored (retention), among the newest.
    const gone = Array.from({ length: 50 }, (_, index) =>
      makeStoredPrediction({
        model: 'paged',
        predictionId: `gone-${index}`,
        timestamp: 90_000 + 1000 + index,
      }),
    );
    await store.upsertFeedback(feedbackFor(gone, 'no'), 1);

    const newest = [...predictions].sort(
      (a, b) => b.timestamp - a.timestamp || (a.predictionId < b.predictionId ? 1 : -1),
    );
    const rows = await store.labelledRows('paged', 4100);
    expect(rows.map((row) => row.inputs.income)).toEqual(
      newest.slice(0, 4100).map((prediction) => prediction.inputs.income),
    );
    expect(rows.every((row) => row.actual === 'yes')).toBe(true);
    expect(await store.labelledRows('paged', 10_000)).toHaveLength(4300);

    // A turn of the event loop between pages, lookups and rows once the budget is spent.
    const { turns } = await turnsDuring(() => store.labelledRows('paged', 4100, new EventLoopSlicer(0)));
    expect(turns).toBeGreaterThan(4100);
    if (kind === 'sqlite') {
      const plan = await handle.database.query<{ detail: string }>(
        `EXPLAIN QUERY PLAN SELECT prediction_id, prediction_ts_ms, actual FROM feedback WHERE model_name = $1
         ORDER BY prediction_ts_ms DESC, prediction_id DESC LIMIT 2000`,
        ['paged'],
      );
      // Read in index order: no sort of all the model's feedback for each page.
      expect(plan.map((step) => step.detail)).toEqual([
        'SEARCH feedback USING INDEX feedback_model_prediction_ts (model_name=?)',
      ]);
    }
  });

  it("writes a request's inputs as the client sent them when the whole request is stored, else serialises them", async () => {
    const storedInputs = async (batchId: string): Promise<string | undefined> =>
      (
        await handle.database.query<{ inputs: string }>(
          'SELECT inputs FROM prediction_batches WHERE batch_id = $1',
          [batchId],
        )
      )[0]?.inputs;
    const whole = makeRequestPredictions(3, { model: 'raw' });
    const sent = ` [ {"income": 0, "housing":"own"},\n {"income":1,"housing":"rent"}, {"income":2,"housing":"own"} ] `;
    const [wholeBatch] = PredictionBatch.fromRecords(whole, sent);
    const request = makeRequestPredictions(3, { model: 'raw' });
    const cut = request.slice(0, 2); // the recorder kept 2 rows of 3
    const [requestBatch] = PredictionBatch.fromRecords(request, '[{"income":0},{"income":1},{"income":2}]');
    const single = makeStoredPrediction({ model: 'raw', inputs: { income: 7 } });
    const [singleBatch] = PredictionBatch.fromRecords([single], '[ {"income" : 7} ]');
    await store.insertBatches([wholeBatch!, requestBatch!.slice(2), singleBatch!]);

    expect(await storedInputs(whole[0]!.predictionId.slice(0, -2))).toBe(sent);
    expect(await storedInputs(cut[0]!.predictionId.slice(0, -2))).toBe(
      JSON.stringify(cut.map((p) => p.inputs)),
    );
    expect(await storedInputs(single.predictionId)).toBe('[ {"income" : 7} ]');
    // Readers see the same rows either way.
    const window = await store.window('raw', 1, 10);
    expect(window.map((row) => row.inputs)).toEqual(
      expect.arrayContaining([...whole, ...cut, single].map((prediction) => prediction.inputs)),
    );
    expect(window).toHaveLength(6);
  });

  it('finds predictions by id and by request id', async () => {
    const single = makeStoredPrediction({ model: 'find' });
    const batch = [
      makeStoredPrediction({ model: 'find', requestId: 'shared' }),
      makeStoredPrediction({ model: 'find', requestId: 'shared' }),
    ];
    await store.insertPredictions([single, ...batch]);
    const found = await store.findPredictions([single.predictionId, 'nope']);
    expect(found).toEqual([
      {
        predictionId: single.predictionId,
        requestId: single.requestId,
        model: 'find',
        version: 1,
        timestamp: single.timestamp,
      },
    ]);
    expect(await store.findByRequestId(single.requestId)).toHaveLength(1);
    expect(await store.findByRequestId('shared')).toHaveLength(2);
    expect(await store.findByRequestId('none')).toEqual([]);
  });

  it('applies retention by age and by row count, feedback included', async () => {
    const retention = await openMonitoringDatabase(kind, 'monitoring_retention');
    try {
      const local = new PredictionStore(retention.database);
      const predictions = Array.from({ length: 20 }, (_, index) =>
        makeStoredPrediction({ model: 'ret', timestamp: 1000 + index * 10 }),
      );
      await local.insertPredictions(predictions);
      await local.upsertFeedback(feedbackFor(predictions, 'no'), 5000);
      // Age: everything before 1050 goes (5 rows).
      expect(await local.applyRetention(1050, 1000)).toBe(5);
      expect(await local.countPredictions()).toBe(15);
      // Count: keep the 10 newest.
      expect(await local.applyRetention(0, 10)).toBe(5);
      const window = await local.window('ret', 1, 100);
      expect(window.map((row) => row.timestamp)).toEqual(
        Array.from({ length: 10 }, (_, index) => 1190 - index * 10),
      );
      expect(await local.countFeedback('ret')).toBe(10);
    } finally {
      await retention.cleanup();
    }
  });

  async function batchRows(model: string): Promise<{ batch_id: string; row_count: number }[]> {
    return (
      await handle.database.query<{ batch_id: string; row_count: number }>(
        `SELECT batch_id, row_count FROM prediction_batches WHERE model_name = $1 ORDER BY ts_ms, batch_id`,
        [model],
      )
    ).map((row) => ({ batch_id: row.batch_id, row_count: Number(row.row_count) }));
  }

  it('stores a 100-row request as one SQL row; finds each of its ids; joins feedback on row 57 in the window', async () => {
    const request = makeRequestPredictions(100, { model: 'hundred', timestamp: 7000 });
    const prefix = request[0]!.predictionId.slice(0, -2);
    await store.insertPredictions(request);
    await store.insertPredictions(request); // retried: idempotent
    expect(await batchRows('hundred')).toEqual([{ batch_id: prefix, row_count: 100 }]);
    expect(await store.countPredictions('hundred')).toBe(100);

    const ids = request.map((prediction) => prediction.predictionId);
    const found = await store.findPredictions([...ids, `${prefix}-100`, prefix, `${prefix}-07`]);
    expect(found.map((key) => key.predictionId)).toEqual(ids);
    expect(found[57]).toEqual({
      predictionId: `${prefix}-57`,
      requestId: request[0]!.requestId,
      model: 'hundred',
      version: 1,
      timestamp: 7000,
    });
    expect(await store.findByRequestId(request[0]!.requestId, 2)).toEqual(found.slice(0, 2));
    expect(await store.findByRequestId(request[0]!.requestId, 1000)).toHaveLength(100);

    await store.upsertFeedback(
      [
        {
          predictionId: `${prefix}-57`,
          model: 'hundred',
          version: 1,
          actual: 'yes',
          predictionTimestamp: 7000,
        },
      ],
      8000,
    );
    const window = await store.window('hundred', 1, 1000);
    expect(window).toHaveLength(100);
    expect(window.map((row) => row.predictionId)).toEqual([...ids].reverse());
    const labelled = window.filter((row) => row.actual !== undefined);
    expect(labelled).toEqual([
      {
        predictionId: `${prefix}-57`,
        timestamp: 7000,
        inputs: request[57]!.inputs,
        label: request[57]!.label,
        probabilities: request[57]!.probabilities,
        score: request[57]!.score,
        actual: 'yes',
      },
    ]);
    await expect(store.labelledRows('hundred', 10)).resolves.toEqual([
      { inputs: request[57]!.inputs, actual: 'yes' },
    ]);
  });

  it('groups runs of one request into batches; anything else is a batch of one under its own id', async () => {
    const first = makeRequestPredictions(3, { model: 'mixed', timestamp: 100 });
    const solo = makeStoredPrediction({ model: 'mixed', predictionId: 'solo-x', timestamp: 101 });
    const second = makeRequestPredictions(2, { model: 'mixed', timestamp: 102 });
    const oneRow = makeRequestPredictions(1, { model: 'mixed', timestamp: 103 });
    const split = makeRequestPredictions(2, { model: 'mixed', timestamp: 104 });
    split[1]!.latencyMs = 99; // not one request's run: two batches of one
    const records = [...first, solo, ...second, ...oneRow, ...split];
    await store.insertPredictions(records);
    expect(await batchRows('mixed')).toEqual([
      { batch_id: first[0]!.predictionId.slice(0, -2), row_count: 3 },
      { batch_id: 'solo-x', row_count: 1 },
      { batch_id: second[0]!.predictionId.slice(0, -2), row_count: 2 },
      { batch_id: oneRow[0]!.predictionId, row_count: 1 },
      { batch_id: split[0]!.predictionId, row_count: 1 },
      { batch_id: split[1]!.predictionId, row_count: 1 },
    ]);
    const ids = records.map((record) => record.predictionId);
    expect((await store.findPredictions(ids)).map((key) => key.predictionId)).toEqual(ids);
    expect(await store.countPredictions('mixed')).toBe(9);
    const window = await store.window('mixed', 1, 100);
    expect(window.map((row) => row.predictionId)).toEqual([...ids].reverse());
    expect(window.find((row) => row.predictionId === 'solo-x')).toMatchObject({
      inputs: solo.inputs,
      label: solo.label,
      probabilities: solo.probabilities,
      score: solo.score,
    });
  });

  it('returns exactly `size` rows when the window boundary falls inside a batch', async () => {
    const requests = [1, 2, 3].map((index) =>
      makeRequestPredictions(4, { model: 'cross', timestamp: index }),
    );
    await store.insertPredictions(requests.flat());
    const window = await store.window('cross', 1, 6);
    expect(window.map((row) => row.predictionId)).toEqual([
      ...requests[2]!.map((row) => row.predictionId).reverse(),
      requests[1]![3]!.predictionId,
      requests[1]![2]!.predictionId,
    ]);
    expect(window.map((row) => row.timestamp)).toEqual([3, 3, 3, 3, 2, 2]);
    expect(await store.window('cross', 1, 4)).toHaveLength(4);
    expect(await store.window('cross', 1, 5)).toHaveLength(5);
    expect(await store.window('cross', 1, 100)).toHaveLength(12);
    expect(await store.window('cross', 1, 100, 2)).toHaveLength(8);
    expect(await store.window('cross', 1, 5, 3)).toHaveLength(4);
    expect(await store.window('cross', 2, 100)).toEqual([]);
  });

  it('applies retention in steps: more batches, milliseconds and feedback than one step takes', async () => {
    const retention = await openMonitoringDatabase(kind, 'monitoring_retention_steps');
    try {
      const local = new PredictionStore(retention.database);
      // 1,600 one-row batches, two a millisecond at 1..800, and a 3-row batch at 801.
      const singles = Array.from({ length: 1600 }, (_, index) =>
        makeStoredPrediction({ model: 'steps', timestamp: 1 + Math.floor(index / 2) }),
      );
      await local.insertPredictions([
        ...singles,
        ...makeRequestPredictions(3, { model: 'steps', timestamp: 801 }),
      ]);
      await local.upsertFeedback(feedbackFor(singles, 'no'), 5000);
      // Age: milliseconds 1..300 go (600 batches: two steps) with their feedback.
      expect(await local.applyRetention(301, 1_000_000)).toBe(600);
      expect(await local.countFeedback('steps')).toBe(1000);
      // Rows: 501 milliseconds are left (a page and one more); at most 1,001 rows stay, so the oldest
      // millisecond (301), found on the second page, goes.
      expect(await local.applyRetention(0, 1001)).toBe(2);
      expect(await local.countPredictions('steps')).toBe(1001);
      expect(await local.countFeedback('steps')).toBe(998);
      // One row fewer allowed: the whole millisecond holding the 1,001st row goes, both its rows.
      expect(await local.applyRetention(0, 1000)).toBe(2);
      expect(await local.countPredictions('steps')).toBe(999);
    } finally {
      await retention.cleanup();
    }
  });

  it('applies retention by rows, not batches', async () => {
    const retention = await openMonitoringDatabase(kind, 'monitoring_retention_rows');
    try {
      const local = new PredictionStore(retention.database);
      const requests = [1, 2, 3, 4, 5].map((index) =>
        makeRequestPredictions(10, { model: 'rows', timestamp: index * 100 }),
      );
      await local.insertPredictions(requests.flat());
      await local.upsertFeedback(
        feedbackFor(
          requests.map((request) => request[5]!),
          'no',
        ),
        5000,
      );
      expect(await local.countPredictions()).toBe(50);
      // Age: the batch at 100 goes (10 rows).
      expect(await local.applyRetention(200, 1_000_000)).toBe(10);
      expect(await local.countPredictions()).toBe(40);
      // Rows: at most the 25 newest; the batch holding the 25th (at 300) goes whole.
      expect(await local.applyRetention(0, 25)).toBe(20);
      expect(await local.countPredictions('rows')).toBe(20);
      expect(await local.applyRetention(0, 20)).toBe(0);
      const window = await local.window('rows', 1, 100);
      expect(new Set(window.map((row) => row.timestamp))).toEqual(new Set([400, 500]));
      expect(window.filter((row) => row.actual !== undefined)).toHaveLength(2);
      expect(await local.countFeedback('rows')).toBe(2);
    } finally {
      await retention.cleanup();
    }
  });
});

describe.each(DATABASE_KINDS)('monitoring-003-prediction-batches on %s', (kind) => {
  it('turns each old prediction row into a batch of one, found under its old id, feedback still joined', async () => {
    const handle = await openMonitoringDatabase(
      kind,
      'monitoring_migrate',
      monitoringMigrationsThrough('monitoring-002-evaluations-retrains'),
    );
    try {
      const insert = `INSERT INTO predictions (prediction_id, request_id, trace_id, ts_ms, model_name, version,
        inputs, label, probabilities, score, latency_ms, out_of_range) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`;
      await handle.database.execute(insert, [
        '0190a5b2-7c3d-7abc-8def-0123456789ab-0',
        'r1',
        'trace',
        1000,
        'old',
        1,
        '{"income":1,"housing":"own"}',
        'yes',
        '[0.25,0.75]',
        0.75,
        1.5,
        '["income"]',
      ]);
      await handle.database.execute(insert, [
        'legacy-id',
        'r2',
        null,
        1001,
        'old',
        1,
        '{"income":2}',
        'say "no"',
        '[0.5,0.5]',
        null,
        2,
        null,
      ]);
      await handle.database.execute(insert, [
        'other-0',
        'r3',
        null,
        1002,
        'old',
        2,
        '{"income":3}',
        'no',
        '[1,0]',
        0.1,
        3,
        null,
      ]);
      await handle.database.execute(
        `INSERT INTO feedback (prediction_id, model_name, version, actual, received_at_ms, prediction_ts_ms)
         VALUES ($1, $2, $3, $4, $5, $6)`,
        ['legacy-id', 'old', 1, 'yes', 2000, 1001],
      );

      const database = await handle.reopen();
      const store = new PredictionStore(database);
      const tables = await database.query<{
        batch_id: string;
        row_count: number;
        labels: string;
        scores: string | null;
        out_of_range: string | null;
      }>(`SELECT batch_id, row_count, labels, scores, out_of_range FROM prediction_batches ORDER BY ts_ms`);
      expect(tables.map((row) => ({ ...row, row_count: Number(row.row_count) }))).toEqual([
        {
          batch_id: '0190a5b2-7c3d-7abc-8def-0123456789ab-0',
          row_count: 1,
          labels: '["yes"]',
          scores: '[0.75]',
          out_of_range: '[["income"]]',
        },
        { batch_id: 'legacy-id', row_count: 1, labels: '["say \\"no\\""]', scores: null, out_of_range: null },
        { batch_id: 'other-0', row_count: 1, labels: '["no"]', scores: '[0.1]', out_of_range: null },
      ]);
      // Not `.rejects.toThrow()`: better-sqlite3 builds its errors with the class of the first test file
      // that loaded it in this Jest worker (another realm), which `toThrow` does not take for an error.
      await expect(database.query(`SELECT 1 FROM predictions`)).rejects.toHaveProperty(
        'message',
        expect.stringMatching(/predictions/),
      );
      expect(await store.countPredictions('old')).toBe(3);
      const found = await store.findPredictions([
        '0190a5b2-7c3d-7abc-8def-0123456789ab-0',
        'legacy-id',
        'other-0',
      ]);
      expect(found.map((key) => [key.predictionId, key.requestId, key.version, key.timestamp])).toEqual([
        ['0190a5b2-7c3d-7abc-8def-0123456789ab-0', 'r1', 1, 1000],
        ['legacy-id', 'r2', 1, 1001],
        ['other-0', 'r3', 2, 1002],
      ]);
      expect(await store.window('old', 1, 10)).toEqual([
        {
          predictionId: 'legacy-id',
          timestamp: 1001,
          inputs: { income: 2 },
          label: 'say "no"',
          probabilities: [0.5, 0.5],
          actual: 'yes',
        },
        {
          predictionId: '0190a5b2-7c3d-7abc-8def-0123456789ab-0',
          timestamp: 1000,
          inputs: { income: 1, housing: 'own' },
          label: 'yes',
          probabilities: [0.25, 0.75],
          score: 0.75,
        },
      ]);
      await expect(store.labelledRows('old', 10)).resolves.toEqual([
        { inputs: { income: 2 }, actual: 'yes' },
      ]);
    } finally {
      await handle.cleanup();
    }
  });
});
