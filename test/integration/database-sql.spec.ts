import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import type { Migration } from '../../src/database/migrations';
import { MIGRATIONS } from '../../src/database/migrations';
import { PostgresDatabase } from '../../src/database/postgres.database';
import { SQLITE_PAGE_SIZE, SqliteDatabase } from '../../src/database/sqlite.database';
import Database from 'better-sqlite3';
import { openTestStore, STORE_KINDS, TEST_DATABASE_URL, type TestStore } from './registry-fixtures';

describe.each(STORE_KINDS)('SqlDatabase on %s', (kind) => {
  let store: TestStore;

  beforeAll(async () => {
    store = await openTestStore(kind, `db_${kind}`);
  });
  afterAll(async () => {
    await store.cleanup();
  });

  it('applies every migration once and records it', async () => {
    const rows = await store.database.query<{ id: string }>('SELECT id FROM schema_migrations ORDER BY id');
    expect(rows.map((row) => row.id)).toEqual(MIGRATIONS.map((migration) => migration.id).sort());
    await expect(store.database.migrate()).resolves.toEqual([]);
  });

  it('binds $n placeholders (repeated, out of order, booleans, nulls) the same way', async () => {
    await store.database.execute('CREATE TABLE t_params (a TEXT, b INTEGER, c INTEGER, d TEXT)');
    const inserted = await store.database.execute(
      'INSERT INTO t_params (a, b, c, d) VALUES ($2, $1, $3, $4)',
      [7, 'x', true, null],
    );
    expect(inserted.rowCount).toBe(1);
    const rows = await store.database.query<{ a: string; b: number; c: number; d: null; again: number }>(
      'SELECT a, b, c, d, b + $1 AS again FROM t_params WHERE a = $2 AND b = $1',
      [7, 'x'],
    );
    expect(rows).toEqual([{ a: 'x', b: 7, c: 1, d: null, again: 14 }]);
    const updated = await store.database.execute('UPDATE t_params SET b = b + 1 WHERE a = $1', ['nobody']);
    expect(updated.rowCount).toBe(0);
  });

  it('returns BIGINT and COUNT as numbers', async () => {
    const [row] = await store.database.query<{ count: number }>('SELECT COUNT(*) AS count FROM t_params');
    expect(row?.count).toBe(1);
  });

  it('commits a transaction that resolves and rolls back one that throws', async () => {
    await store.database.execute('CREATE TABLE t_tx (id INTEGER PRIMARY KEY)');
    await store.database.transaction(async (tx) => {
      await tx.execute('INSERT INTO t_tx (id) VALUES ($1)', [1]);
    });
    await expect(
      store.database.transaction(async (tx) => {
        await tx.execute('INSERT INTO t_tx (id) VALUES ($1)', [2]);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    const rows = await store.database.query<{ id: number }>('SELECT id FROM t_tx ORDER BY id');
    expect(rows.map((row) => row.id)).toEqual([1]);
  });

  it('runs concurrent transactions one after another without losing an update', async () => {
    await store.database.execute('CREATE TABLE t_counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)');
    await store.database.execute('INSERT INTO t_counter (id, n) VALUES (1, 0)');
    const other = store.openAnother();
    const increment = (database: typeof other) =>
      database.transaction(async (tx) => {
        await tx.execute('UPDATE t_counter SET n = n WHERE id = 1'); // take the row lock first
        const [row] = await tx.query<{ n: number }>('SELECT n FROM t_counter WHERE id = 1');
        await new Promise((resolve) => setImmediate(resolve));
        await tx.execute('UPDATE t_counter SET n = $1 WHERE id = 1', [Number(row?.n) + 1]);
      });
    await Promise.all(
      Array.from({ length: 20 }, (_, index) => increment(index % 2 === 0 ? store.database : other)),
    );
    const [row] = await store.database.query<{ n: number }>('SELECT n FROM t_counter WHERE id = 1');
    expect(row?.n).toBe(20);
  });

  it('refuses a second Production version for one model at the database level', async () => {
    const at = new Date().toISOString();
    await store.database.execute(
      "INSERT INTO registered_models (name, tags, created_at, updated_at) VALUES ('m', '{}', $1, $1)",
      [at],
    );
    const insert = (version: number) =>
      store.database.execute(
        `INSERT INTO model_versions (model_name, version, stage, sha256, size_bytes, signature, metrics, params,
           dataset_fingerprint, created_at, created_by, updated_at)
         VALUES ('m', $1, 'Production', 'x', 1, '{}', '{}', '{}', 'f', $2, 'test', $2)`,
        [version, at],
      );
    await insert(1);
    // toMatchObject, not toThrow: better-sqlite3's SqliteError comes from another realm inside Jest workers.
    await expect(insert(2)).rejects.toMatchObject({ message: expect.stringMatching(/unique/i) });
  });

  it('gives an advisory lock to one holder at a time, across connections', async () => {
    const other = store.openAnother();
    await other.migrate();
    let inner: unknown;
    const outer = await store.database.withAdvisoryLock('test-lock', async () => {
      inner = await other.withAdvisoryLock('test-lock', async () => 'second');
      const sameProcess = await store.database.withAdvisoryLock('test-lock', async () => 'nested');
      return { sameProcess };
    });
    expect(outer).toEqual({ acquired: true, value: { sameProcess: { acquired: false } } });
    expect(inner).toEqual({ acquired: false });
    await expect(other.withAdvisoryLock('test-lock', async () => 'after')).resolves.toEqual({
      acquired: true,
      value: 'after',
    });
  });

  it('releases an advisory lock when the body throws', async () => {
    await expect(
      store.database.withAdvisoryLock('throwing', async () => {
        throw new Error('inside');
      }),
    ).rejects.toThrow('inside');
    await expect(store.database.withAdvisoryLock('throwing', async () => 1)).resolves.toEqual({
      acquired: true,
      value: 1,
    });
  });
});

describe('Migrations', () => {
  it('apply only the migrations added to the list since the last start (SQLite file)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-migrations-'));
    const file = join(dir, 'vigil.db');
    const first: Migration[] = [{ id: 'test-001', up: ['CREATE TABLE a (x INTEGER)'] }];
    const second: Migration[] = [...first, { id: 'test-002', up: ['CREATE TABLE b (y INTEGER)'] }];
    try {
      const before = new SqliteDatabase({ file, migrations: first });
      await expect(before.migrate()).resolves.toEqual(['test-001']);
      await before.close();
      const after = new SqliteDatabase({ file, migrations: second });
      await expect(after.migrate()).resolves.toEqual(['test-002']);
      await expect(after.query('SELECT y FROM b')).resolves.toEqual([]);
      await after.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('SQLite page size', () => {
  it('gives a new file 16 KB pages and leaves an existing file its own', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-page-size-'));
    try {
      const fresh = new SqliteDatabase({ file: join(dir, 'new.db') });
      await fresh.migrate();
      await expect(fresh.query('PRAGMA page_size')).resolves.toEqual([{ page_size: SQLITE_PAGE_SIZE }]);
      await fresh.close();
      expect(SQLITE_PAGE_SIZE).toBe(16_384);

      const file = join(dir, 'old.db');
      const old = new Database(file);
      old.pragma('page_size = 4096');
      old.exec('CREATE TABLE kept (x INTEGER)');
      old.prepare('INSERT INTO kept (x) VALUES (?)').run(7);
      old.close();
      const reopened = new SqliteDatabase({ file });
      await reopened.migrate();
      await expect(reopened.query('PRAGMA page_size')).resolves.toEqual([{ page_size: 4096 }]);
      await expect(reopened.query('SELECT x FROM kept')).resolves.toEqual([{ x: 7 }]);
      await reopened.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('PostgresDatabase resilience', () => {
  it('survives the server closing its connections (idle error reported, next query reconnects)', async () => {
    const schema = `t_resilience_${process.pid}`;
    const errors: Error[] = [];
    const database = new PostgresDatabase({
      connectionString: TEST_DATABASE_URL,
      schema,
      migrations: [],
      onIdleError: (error) => errors.push(error),
    });
    try {
      await database.migrate();
      await database.query('SELECT 1 AS one');
      const admin = new Client({ connectionString: TEST_DATABASE_URL });
      await admin.connect();
      await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE pid <> pg_backend_pid() AND query NOT ILIKE '%pg_stat_activity%' AND application_name = '' AND datname = 'test'
           AND backend_type = 'client backend' AND state = 'idle' AND query = 'SELECT 1 AS one'`,
      );
      await admin.end();
      await new Promise((resolve) => setTimeout(resolve, 50));
      await expect(database.query<{ one: number }>('SELECT 1 AS one')).resolves.toEqual([{ one: 1 }]);
      expect(errors.length).toBeGreaterThan(0);
    } finally {
      await database.dropSchema();
      await database.close();
    }
  });
});
