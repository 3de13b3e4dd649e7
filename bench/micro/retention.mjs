// Usage: node bench/micro/retention.mjs <dist dir> [batches] [keep] (e.g. dist 1000000 0.5), after npm run build.
// How long the prediction store's retention holds the event loop: a SQLite store filled with
// `batches` one-row batches (4 a millisecond, every fifth with feedback), then `applyRetention` keeping
// at most `keep` × batches rows (2: nothing to delete), with a 1-ms timer measuring the stretches it
// could not run.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const dist = resolve(process.argv[2] ?? 'dist');
const batches = Number(process.argv[3] ?? 1_000_000);
const keep = Number(process.argv[4] ?? 0.5);
const { SqliteDatabase } = await import(join(dist, 'database/sqlite.database.js'));
const { PredictionStore } = await import(join(dist, 'monitoring/prediction.store.js'));
const dir = mkdtempSync(join(tmpdir(), 'retention-'));
const db = new SqliteDatabase({ file: join(dir, 'v.db') });
await db.migrate();
const store = new PredictionStore(db);
const base = 1_700_000_000_000;
await db.execute(
  `WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s LIMIT ${batches})
   INSERT INTO prediction_batches (batch_id, request_id, trace_id, ts_ms, model_name, version, row_count,
     inputs, labels, probabilities, scores, latency_ms, out_of_range)
   SELECT printf('b-%09d', i), printf('r-%09d', i), NULL, ${base} + i / 4, 'iris', 1, 1,
     '[{"sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4,"petal_width":0.2}]', '["Iris-setosa"]',
     '[[0.9736934900283813,0.026306508108973503,7.2e-8]]', NULL, 1.5, NULL FROM s`,
);
await db.execute(
  `INSERT INTO feedback (prediction_id, model_name, version, actual, prediction_ts_ms, received_at_ms)
   SELECT batch_id, 'iris', 1, 'Iris-setosa', ts_ms, ts_ms FROM prediction_batches WHERE rowid % 5 = 0`,
);
const delay = monitorEventLoopDelay({ resolution: 1 });
let longest = 0;
const gaps = [];
let last = performance.now();
const probe = setInterval(() => {
  const now = performance.now();
  longest = Math.max(longest, now - last);
  if (now - last > 10) gaps.push(Math.round(now - last));
  last = now;
}, 1);
delay.enable();
const started = performance.now();
const cpu = process.cpuUsage();
const deleted = await store.applyRetention(0, keep * batches);
const wall = performance.now() - started;
const used = process.cpuUsage(cpu);
await new Promise((done) => setTimeout(done, 5)); // the probe's first tick after a synchronous stretch
clearInterval(probe);
delay.disable();
console.log(
  `${dist}: ${batches} batches, retention deleted ${deleted} in ${wall.toFixed(0)} ms wall, ` +
    `${((used.user + used.system) / 1000).toFixed(0)} ms CPU; event loop held at most ${longest.toFixed(0)} ms ` +
    `(p99 delay ${(delay.percentile(99) / 1e6).toFixed(1)} ms; ${gaps.length} stretches over 10 ms, longest ` +
    `${gaps
      .sort((a, b) => b - a)
      .slice(0, 5)
      .join(', ')}); left ${await store.countPredictions()}`,
);
await store.onApplicationShutdown();
db.close?.();
rmSync(dir, { recursive: true, force: true });
