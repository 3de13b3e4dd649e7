import { PredictionStore } from '../../src/monitoring/prediction.store';
import {
  DATABASE_KINDS,
  type MonitoringTestDatabase,
  makeStoredPrediction,
  openMonitoringDatabase,
} from './monitoring-support';

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
      await local.upsertFeedback(
        predictions.map((prediction) => ({
          predictionId: prediction.predictionId,
          model: 'ret',
          version: 1,
          actual: 'no',
          predictionTimestamp: prediction.timestamp,
        })),
        5000,
      );
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
});
