import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS, type Migration, migrationStatements } from './migrations';
import {
  type LockResult,
  SqlDatabase,
  type SqlExecutor,
  type SqlParams,
  type SqlValue,
} from './sql-database';

export interface SqliteDatabaseOptions {
  /** A file path, or `:memory:`. */
  file: string;
  migrations?: readonly Migration[];
  /** How long a writer waits for another process's write lock before SQLITE_BUSY. */
  busyTimeoutMs?: number;
  /** An advisory lock lease left by a crashed process expires after this. */
  lockLeaseMs?: number;
}

/**
 * The page size of a new database file: 16 KB, not SQLite's 4 KB. A 100-row request stores ~30 KB of
 * instances text: in 4 KB pages that is a chain of eight overflow pages, each written to the WAL
 * (header and page, two writes) and again by the checkpoint. Measured with the prediction writer
 * (`docs/performance.md`, pass 13): CPU per 100-row batch 100–108 µs against 144–152 (4 KB);
 * single-row batches, 500 a write, 10.3 against 11.1–12.7 µs.
 */
export const SQLITE_PAGE_SIZE = 16_384;
/** SQLite's default `wal_autocheckpoint`: a commit checkpoints once the WAL holds this many pages. */
const AUTO_CHECKPOINT_PAGES = 1000;

type Bound = Record<string, string | number | bigint | Buffer | null>;

/** `$1..$n` are SQLite named parameters `$1`…; better-sqlite3 binds them from `{ 1: …, 2: … }`. */
function bind(params: SqlParams | undefined): Bound {
  const bound: Bound = {};
  params?.forEach((value: SqlValue | undefined, index) => {
    bound[String(index + 1)] =
      value === undefined ? null : typeof value === 'boolean' ? Number(value) : value;
  });
  return bound;
}

/**
 * SQLite through better-sqlite3 (synchronous, one connection, WAL). In-process, a transaction holds a
 * gate that other queries wait on, because its body awaits and would otherwise interleave on the one
 * connection; across processes, `BEGIN IMMEDIATE` takes SQLite's write lock.
 */
export class SqliteDatabase extends SqlDatabase {
  readonly dialect = 'sqlite' as const;
  /** The database file (or `:memory:`), for a second connection such as the prediction writer's. */
  readonly file: string;
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();
  private readonly migrations: readonly Migration[];
  private readonly lockLeaseMs: number;
  private readonly owner = randomUUID();
  private readonly heldLocks = new Set<string>();
  private readonly busyTimeoutMs: number;
  private gate: Promise<void> | null = null;
  private readonly executor: SqlExecutor;

  constructor(options: SqliteDatabaseOptions) {
    super();
    this.file = options.file;
    if (options.file !== ':memory:') mkdirSync(dirname(options.file), { recursive: true });
    this.db = new Database(options.file);
    // Takes effect only while the file is new (an existing one keeps its page size).
    this.db.pragma(`page_size = ${SQLITE_PAGE_SIZE}`);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    // No blocking wait inside SQLite: a sync wait would freeze the event loop, and with it the holder
    // of the lock when that is another connection of this process. Busy writers retry asynchronously.
    this.db.pragma('busy_timeout = 0');
    this.busyTimeoutMs = options.busyTimeoutMs ?? 5000;
    this.migrations = options.migrations ?? MIGRATIONS;
    this.lockLeaseMs = options.lockLeaseMs ?? 5 * 60_000;
    this.executor = {
      dialect: 'sqlite',
      query: async <T extends object>(sql: string, params?: SqlParams) => this.runQuery<T>(sql, params),
      execute: async (sql: string, params?: SqlParams) => this.runExecute(sql, params),
    };
  }

  async query<T extends object>(sql: string, params?: SqlParams): Promise<T[]> {
    while (this.gate) await this.gate;
    return this.whenNotBusy(() => this.runQuery<T>(sql, params));
  }

  async execute(sql: string, params?: SqlParams): Promise<{ rowCount: number }> {
    while (this.gate) await this.gate;
    return this.whenNotBusy(() => this.runExecute(sql, params));
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    while (this.gate) await this.gate;
    let open!: () => void;
    this.gate = new Promise<void>((resolve) => (open = resolve));
    try {
      await this.whenNotBusy(() => this.db.exec('BEGIN IMMEDIATE'));
      try {
        const value = await fn(this.executor);
        this.db.exec('COMMIT');
        return value;
      } catch (error) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw error;
      }
    } finally {
      this.gate = null;
      open();
    }
  }

  async withAdvisoryLock<T>(key: string, fn: () => Promise<T>): Promise<LockResult<T>> {
    if (this.heldLocks.has(key)) return { acquired: false };
    const now = Date.now();
    const acquired = await this.transaction(async (tx) => {
      await tx.execute('DELETE FROM advisory_locks WHERE lock_key = $1 AND expires_at < $2', [key, now]);
      const inserted = await tx.execute(
        'INSERT INTO advisory_locks (lock_key, owner, expires_at) VALUES ($1, $2, $3) ON CONFLICT (lock_key) DO NOTHING',
        [key, this.owner, now + this.lockLeaseMs],
      );
      return inserted.rowCount === 1;
    });
    if (!acquired) return { acquired: false };
    this.heldLocks.add(key);
    try {
      return { acquired: true, value: await fn() };
    } finally {
      this.heldLocks.delete(key);
      await this.execute('DELETE FROM advisory_locks WHERE lock_key = $1 AND owner = $2', [key, this.owner]);
    }
  }

  async migrate(): Promise<string[]> {
    this.db.exec(
      'CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, applied_at TEXT NOT NULL);' +
        'CREATE TABLE IF NOT EXISTS advisory_locks (lock_key TEXT PRIMARY KEY, owner TEXT NOT NULL, expires_at BIGINT NOT NULL);',
    );
    const applied: string[] = [];
    for (const migration of this.migrations) {
      const done = await this.transaction(async (tx) => {
        const rows = await tx.query('SELECT id FROM schema_migrations WHERE id = $1', [migration.id]);
        if (rows.length > 0) return false;
        for (const statement of migrationStatements(migration, 'sqlite')) this.db.exec(statement);
        await tx.execute('INSERT INTO schema_migrations (id, applied_at) VALUES ($1, $2)', [
          migration.id,
          new Date().toISOString(),
        ]);
        return true;
      });
      if (done) applied.push(migration.id);
    }
    return applied;
  }

  async close(): Promise<void> {
    while (this.gate) await this.gate;
    if (this.db.open) this.db.close();
  }

  /**
   * Whether this connection's commits checkpoint the WAL once it holds `AUTO_CHECKPOINT_PAGES` pages
   * (16 MB): the commit that crosses the mark copies them all into the database file, on the event
   * loop (a 30–86-ms block here: docs/performance.md, pass 14). Off while another connection of the
   * file checkpoints it (the prediction writer's thread); on again when that one stops.
   */
  checkpointOnCommit(on: boolean): void {
    if (this.db.open) this.db.pragma(`wal_autocheckpoint = ${on ? AUTO_CHECKPOINT_PAGES : 0}`);
  }

  /** Runs `fn`, retrying with backoff while another connection holds SQLite's write lock. */
  private async whenNotBusy<T>(fn: () => T): Promise<T> {
    const deadline = Date.now() + this.busyTimeoutMs;
    for (let attempt = 0; ; attempt += 1) {
      try {
        return fn();
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        if ((code !== 'SQLITE_BUSY' && code !== 'SQLITE_BUSY_SNAPSHOT') || Date.now() > deadline) throw error;
        await new Promise((resolve) =>
          setTimeout(resolve, Math.min(2 ** attempt, 25) * (0.5 + Math.random())),
        );
      }
    }
  }

  private prepare(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      if (this.statements.size > 500) this.statements.clear();
      this.statements.set(sql, statement);
    }
    return statement;
  }

  private runQuery<T extends object>(sql: string, params?: SqlParams): T[] {
    const statement = this.prepare(sql);
    const bound = bind(params);
    if (!statement.reader) {
      statement.run(bound);
      return [];
    }
    return statement.all(bound) as T[];
  }

  private runExecute(sql: string, params?: SqlParams): { rowCount: number } {
    const statement = this.prepare(sql);
    const bound = bind(params);
    if (statement.reader) return { rowCount: statement.all(bound).length };
    return { rowCount: statement.run(bound).changes };
  }
}
