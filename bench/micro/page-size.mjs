// Usage: node bench/micro/page-size.mjs <dist dir> <page size | 0> [rows per batch] [batches per write]
//   e.g. for size in 0 4096 16384 32768; do node bench/micro/page-size.mjs dist $size 100 16; done
// What the prediction writer thread costs per batch with a given SQLite page size: a new file made
// with `page_size` (0: as Vigil makes it), migrated, then 50 warm-up writes and 400 measured writes of
// `batches per write` batches of `rows per batch` credit rows (texts the size the live path stores),
// through the SqlitePredictionWriter of DIST. Process CPU (both threads) and wall time per batch.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { makeRows } from '../lib/workload.mjs';

const require = createRequire(import.meta.url);
const dist = resolve(process.argv[2] ?? 'dist');
const pageSize = Number(process.argv[3] ?? 0);
const rowsPerBatch = Number(process.argv[4] ?? 100);
const perWrite = Number(process.argv[5] ?? 16);
const Database = require('better-sqlite3');
const { SqliteDatabase } = require(join(dist, 'database/sqlite.database.js'));
const { SqlitePredictionWriter } = require(join(dist, 'monitoring/sqlite-prediction.writer.js'));
const { SqlValueBuffer } = require(join(dist, 'database/sql-value-buffer.js'));
// The store's own columns, in its order: each batch below lists its 13 values in that order.
const { BATCH_COLUMNS, BATCH_TEXT_COLUMNS } = require(join(dist, 'monitoring/prediction.store.js'));

const dir = mkdtempSync(join(tmpdir(), 'vigil-page-size-'));
const file = join(dir, 'vigil.db');
if (pageSize > 0) {
  const created = new Database(file);
  created.pragma(`page_size = ${pageSize}`);
  created.pragma('journal_mode = WAL');
  created.close();
}
const db = new SqliteDatabase({ file });
await db.migrate();
const [{ page_size: actual }] = await db.query('PRAGMA page_size');

const writer = new SqlitePredictionWriter({ file, columns: BATCH_COLUMNS, textColumns: BATCH_TEXT_COLUMNS });
const signature = JSON.parse(readFileSync(join(dist, '..', 'models', 'credit', 'signature.json'), 'utf8'));
const inputs = JSON.stringify(makeRows(signature, rowsPerBatch));
const score = (row) => (0.123456789012345 * (row % 7)) / 7;
const probabilities = JSON.stringify(
  Array.from({ length: rowsPerBatch }, (_, row) => [1 - score(row), score(row)]),
);
const scores = JSON.stringify(Array.from({ length: rowsPerBatch }, (_, row) => score(row)));
const labels = JSON.stringify(Array.from({ length: rowsPerBatch }, (_, row) => (row % 3 ? 'good' : 'bad')));

let next = 0;
const buffer = new SqlValueBuffer(1 << 20, true);
async function write() {
  buffer.clear();
  for (let batch = 0; batch < perWrite; batch++) {
    const id = `b${String(next++).padStart(12, '0')}`;
    buffer.append([
      id,
      `r${id}`,
      'a'.repeat(32),
      Date.now(),
      'credit',
      1,
      rowsPerBatch,
      inputs,
      labels,
      probabilities,
      scores,
      1.5,
      null,
    ]);
  }
  await writer.insert([perWrite], buffer.bytes());
}

for (let index = 0; index < 50; index++) await write();
const writes = 400;
const cpu0 = process.cpuUsage();
const wall0 = performance.now();
for (let index = 0; index < writes; index++) await write();
const cpu = process.cpuUsage(cpu0);
const wall = performance.now() - wall0;
const batches = writes * perWrite;
console.log(
  `page ${actual}: ${((cpu.user + cpu.system) / batches).toFixed(1)} µs CPU per ${rowsPerBatch}-row batch ` +
    `(user ${(cpu.user / batches).toFixed(1)}, system ${(cpu.system / batches).toFixed(1)}), ` +
    `wall ${((wall * 1000) / batches).toFixed(1)} µs, ${perWrite} batches a write`,
);
await writer.close();
await db.close();
rmSync(dir, { recursive: true, force: true });
