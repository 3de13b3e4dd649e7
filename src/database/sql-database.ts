/** A value bound to a `$n` placeholder. Booleans become 0/1 on SQLite; JSON is stored as TEXT. */
export type SqlValue = string | number | boolean | null | Buffer;
export type SqlParams = readonly (SqlValue | undefined)[];
export type SqlDialect = 'sqlite' | 'postgres';

/** What a transaction body can run: queries bound to the transaction's connection. */
export interface SqlExecutor {
  readonly dialect: SqlDialect;
  query<T extends object>(sql: string, params?: SqlParams): Promise<T[]>;
  execute(sql: string, params?: SqlParams): Promise<{ rowCount: number }>;
}

export type LockResult<T> = { acquired: true; value: T } | { acquired: false };

/**
 * The SQL store shared by the registry and the prediction store: one abstract class (the DI token),
 * two real implementations (`SqliteDatabase`, `PostgresDatabase`). SQL is written once with `$1`
 * placeholders and portable types (TEXT, INTEGER, BIGINT, DOUBLE PRECISION; times as ISO-8601 TEXT,
 * JSON as TEXT).
 */
export abstract class SqlDatabase implements SqlExecutor {
  abstract readonly dialect: SqlDialect;
  abstract query<T extends object>(sql: string, params?: SqlParams): Promise<T[]>;
  abstract execute(sql: string, params?: SqlParams): Promise<{ rowCount: number }>;
  /**
   * Runs `fn` in one transaction; commits when it resolves, rolls back when it throws. Writers are
   * serialized (SQLite: `BEGIN IMMEDIATE`; PostgreSQL: take a row lock first, see the registry), and
   * serialization failures / deadlocks are retried.
   */
  abstract transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /**
   * Runs `fn` only if no other process (or caller) holds `key`; otherwise returns `{ acquired: false }`
   * at once. PostgreSQL: `pg_try_advisory_lock`; SQLite: a lease row in `advisory_locks`.
   */
  abstract withAdvisoryLock<T>(key: string, fn: () => Promise<T>): Promise<LockResult<T>>;
  /** Applies the migrations not yet recorded in `schema_migrations`, in order. */
  abstract migrate(): Promise<string[]>;
  abstract close(): Promise<void>;
}
