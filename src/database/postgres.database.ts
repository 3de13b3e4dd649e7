import { createHash } from 'node:crypto';
import { Pool, type PoolClient, types } from 'pg';
import { MIGRATIONS, type Migration, migrationStatements } from './migrations';
import { type LockResult, SqlDatabase, type SqlExecutor, type SqlParams } from './sql-database';

export interface PostgresDatabaseOptions {
  connectionString: string;
  /** Every connection uses this schema (`search_path`); created by `migrate()`. Tests isolate with it. */
  schema?: string;
  migrations?: readonly Migration[];
  poolSize?: number;
  /** Called when an idle connection fails (server restart): the pool replaces it, we only report it. */
  onIdleError?: (error: Error) => void;
}

const INT8_OID = 20;
/** Serialization failure, deadlock: the transaction is safe to run again. */
const RETRYABLE = new Set(['40001', '40P01']);
const MAX_ATTEMPTS = 5;
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** A stable signed 64-bit key for `pg_advisory_lock` from any string. */
export function advisoryLockKey(key: string): string {
  return createHash('sha256').update(key).digest().readBigInt64BE(0).toString();
}

const parseBigInt = (value: string): number => Number(value);
const parseInt8AsNumber = ((oid: number, format?: 'text' | 'binary'): unknown =>
  oid === INT8_OID && format !== 'binary'
    ? parseBigInt
    : (types.getTypeParser as (oid: number, format?: string) => unknown)(
        oid,
        format ?? 'text',
      )) as typeof types.getTypeParser;

function toPg(params: SqlParams | undefined): unknown[] {
  return (params ?? []).map((value) =>
    value === undefined ? null : typeof value === 'boolean' ? Number(value) : value,
  );
}

function executor(client: PoolClient): SqlExecutor {
  return {
    dialect: 'postgres',
    query: async <T extends object>(sql: string, params?: SqlParams) =>
      (await client.query(sql, toPg(params))).rows as T[],
    execute: async (sql: string, params?: SqlParams) => ({
      rowCount: (await client.query(sql, toPg(params))).rowCount ?? 0,
    }),
  };
}

/**
 * PostgreSQL through a `pg` Pool, for several replicas sharing one store. The pool reconnects after a
 * server restart; an idle client's error is reported and never crashes the process.
 */
export class PostgresDatabase extends SqlDatabase {
  readonly dialect = 'postgres' as const;
  private readonly pool: Pool;
  private readonly migrations: readonly Migration[];
  private readonly schema?: string;
  private closed = false;

  constructor(options: PostgresDatabaseOptions) {
    super();
    if (options.schema !== undefined && !SCHEMA_NAME.test(options.schema))
      throw new Error(`Invalid schema name "${options.schema}"`);
    this.schema = options.schema;
    this.migrations = options.migrations ?? MIGRATIONS;
    this.pool = new Pool({
      connectionString: options.connectionString,
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: 5000,
      idleTimeoutMillis: 30_000,
      options: options.schema ? `-c search_path=${options.schema}` : undefined,
      // BIGINT columns (sizes, counters) fit a double; pg would hand them over as strings.
      types: { getTypeParser: parseInt8AsNumber },
    });
    this.pool.on('error', (error) => options.onIdleError?.(error));
  }

  async query<T extends object>(sql: string, params?: SqlParams): Promise<T[]> {
    return (await this.pool.query(sql, toPg(params))).rows as T[];
  }

  async execute(sql: string, params?: SqlParams): Promise<{ rowCount: number }> {
    return { rowCount: (await this.pool.query(sql, toPg(params))).rowCount ?? 0 };
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt += 1) {
      const client = await this.pool.connect();
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        try {
          const value = await fn(executor(client));
          await client.query('COMMIT');
          return value;
        } catch (error) {
          await client.query('ROLLBACK').catch((rollbackError: Error) => (broken = rollbackError));
          throw error;
        }
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        if (typeof code === 'string' && RETRYABLE.has(code) && attempt < MAX_ATTEMPTS) {
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * attempt));
          continue;
        }
        throw error;
      } finally {
        client.release(broken);
      }
    }
  }

  async withAdvisoryLock<T>(key: string, fn: () => Promise<T>): Promise<LockResult<T>> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      const lockKey = advisoryLockKey(key);
      const [row] = (
        await client.query<{ acquired: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS acquired', [
          lockKey,
        ])
      ).rows;
      if (!row?.acquired) return { acquired: false };
      try {
        return { acquired: true, value: await fn() };
      } finally {
        await client
          .query('SELECT pg_advisory_unlock($1::bigint)', [lockKey])
          .catch((error: Error) => (broken = error));
      }
    } finally {
      client.release(broken);
    }
  }

  async migrate(): Promise<string[]> {
    const client = await this.pool.connect();
    const applied: string[] = [];
    const lockKey = advisoryLockKey('vigil:migrations');
    try {
      // Several replicas may start together: one migrates, the others wait and find nothing to do.
      await client.query('SELECT pg_advisory_lock($1::bigint)', [lockKey]);
      try {
        if (this.schema) await client.query(`CREATE SCHEMA IF NOT EXISTS ${this.schema}`);
        await client.query(
          'CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, applied_at TEXT NOT NULL)',
        );
        const done = new Set(
          (await client.query<{ id: string }>('SELECT id FROM schema_migrations')).rows.map((row) => row.id),
        );
        for (const migration of this.migrations) {
          if (done.has(migration.id)) continue;
          await client.query('BEGIN');
          try {
            for (const statement of migrationStatements(migration, 'postgres')) await client.query(statement);
            await client.query('INSERT INTO schema_migrations (id, applied_at) VALUES ($1, $2)', [
              migration.id,
              new Date().toISOString(),
            ]);
            await client.query('COMMIT');
          } catch (error) {
            await client.query('ROLLBACK');
            throw error;
          }
          applied.push(migration.id);
        }
      } finally {
        await client.query('SELECT pg_advisory_unlock($1::bigint)', [lockKey]);
      }
    } finally {
      client.release();
    }
    return applied;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }

  /** Tests: drop the schema this database was given (and everything in it). */
  async dropSchema(): Promise<void> {
    if (this.schema) await this.pool.query(`DROP SCHEMA IF EXISTS ${this.schema} CASCADE`);
  }
}
