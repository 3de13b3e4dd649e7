// Usage: node bench/micro/store-insert.mjs <dist dir> (e.g. dist), after npm run build.
// CPU per stored prediction, random flush sizes 1-499: the PredictionStore as built in DIST, rows like the credit model's.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
const dist = (await import('node:path')).resolve(process.argv[2] ?? 'dist');
const { SqliteDatabase } = await import(join(dist, 'database/sqlite.database.js'));
const { PredictionStore } = await import(join(dist, 'monitoring/prediction.store.js'));
const db = new SqliteDatabase({ file: join(mkdtempSync(join(tmpdir(), 'st-')), 'v.db') });
await db.migrate();
const store = new PredictionStore(db);
const inputs = {
  age: 42,
  income: 52000,
  debt_ratio: 0.3,
  months_employed: 40,
  credit_lines: 4,
  late_payments: 0,
  utilization: 0.4,
  home: 'rent',
  purpose: 'car',
  region: 'north',
  amount: 12000,
};
let n = 0;
function rows(count) {
  const prefix = `${crypto.randomUUID()}-`;
  return Array.from({ length: count }, (_, i) => ({
    predictionId: prefix + i,
    requestId: String(n++),
    traceId: 'a'.repeat(32),
    timestamp: Date.now(),
    model: 'credit',
    version: 1,
    inputs,
    label: 'good',
    probabilities: [0.2, 0.8],
    score: 0.8,
    latencyMs: 1.2,
  }));
}
const sizes = Array.from({ length: 9 }, () => 0);
const rnd = () => 1 + Math.floor(Math.random() * 499);
for (let w = 0; w < 3; w++) for (const _ of sizes) await store.insertPredictions(rows(rnd()));
const t0 = process.cpuUsage();
const w0 = performance.now();
let total = 0;
for (let r = 0; r < 12; r++)
  for (const _ of sizes) {
    const s = rnd();
    await store.insertPredictions(rows(s));
    total += s;
  }
const cpu = process.cpuUsage(t0);
const wall = performance.now() - w0;
console.log(
  `${dist}: ${total} rows, ${((cpu.user + cpu.system) / total).toFixed(2)} µs CPU/row, ${((wall * 1000) / total).toFixed(2)} µs wall/row`,
);
