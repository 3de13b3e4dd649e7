import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PostgresDatabase } from '../../src/database/postgres.database';
import type { SqlDatabase } from '../../src/database/sql-database';
import { SqliteDatabase } from '../../src/database/sqlite.database';
import type { Migration } from '../../src/database/migrations';
import { MONITORING_MIGRATIONS } from '../../src/monitoring/monitoring.migrations';
import type { StoredPrediction } from '../../src/monitoring/prediction.store';

export const MONITORING_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/test';
export const DATABASE_KINDS = ['sqlite', 'postgres'] as const;
export type DatabaseKind = (typeof DATABASE_KINDS)[number];

export interface MonitoringTestDatabase {
  database: SqlDatabase;
  /** Closes `database` and opens the same file or schema again, migrated with `migrations`. */
  reopen(migrations?: readonly Migration[]): Promise<SqlDatabase>;
  cleanup(): Promise<void>;
}

/**
 * A migrated database of its own: a temp SQLite file, or a PostgreSQL schema named after the test.
 * `migrations` defaults to every monitoring migration (an older schema: a prefix of them).
 */
export async function openMonitoringDatabase(
  kind: DatabaseKind,
  name: string,
  migrations: readonly Migration[] = MONITORING_MIGRATIONS,
): Promise<MonitoringTestDatabase> {
  if (kind === 'sqlite') {
    const directory = mkdtempSync(join(tmpdir(), `vigil-${name}-`));
    const open = async (list: readonly Migration[]): Promise<SqlDatabase> => {
      const database = new SqliteDatabase({ file: join(directory, 'vigil.db'), migrations: list });
      await database.migrate();
      return database;
    };
    const handle: MonitoringTestDatabase = {
      database: await open(migrations),
      reopen: async (list = MONITORING_MIGRATIONS) => {
        await handle.database.close();
        handle.database = await open(list);
        return handle.database;
      },
      cleanup: async () => {
        await handle.database.close();
        rmSync(directory, { recursive: true, force: true });
      },
    };
    return handle;
  }
  const schema = `${name}_${process.pid}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  const open = (list: readonly Migration[]): PostgresDatabase =>
    new PostgresDatabase({
      connectionString: MONITORING_DATABASE_URL,
      schema,
      migrations: list,
      poolSize: 4,
    });
  const database = open(migrations);
  try {
    await database.dropSchema();
    await database.migrate();
  } catch (error) {
    await database.close();
    throw new Error(
      `PostgreSQL is needed at ${MONITORING_DATABASE_URL} (apt-get install -y postgresql; service postgresql start): ${
        error instanceof Error ? error.message : String(error)
      }`,
    );
  }
  const handle: MonitoringTestDatabase = {
    database,
    reopen: async (list = MONITORING_MIGRATIONS) => {
      await handle.database.close();
      const reopened = open(list);
      await reopened.migrate();
      handle.database = reopened;
      return reopened;
    },
    cleanup: async () => {
      await (handle.database as PostgresDatabase).dropSchema();
      await handle.database.close();
    },
  };
  return handle;
}

/** The monitoring migrations up to and including `id`: an older schema to migrate from. */
export function monitoringMigrationsThrough(id: string): readonly Migration[] {
  const index = MONITORING_MIGRATIONS.findIndex((migration) => migration.id === id);
  if (index < 0) throw new Error(`no monitoring migration ${id}`);
  return MONITORING_MIGRATIONS.slice(0, index + 1);
}

let sequence = 0;

export function makeStoredPrediction(overrides: Partial<StoredPrediction> = {}): StoredPrediction {
  sequence += 1;
  return {
    predictionId: `pred-${sequence}`,
    requestId: `req-${sequence}`,
    timestamp: 1_700_000_000_000 + sequence,
    model: 'credit',
    version: 1,
    inputs: { income: 1000 + sequence, housing: 'own' },
    label: 'no',
    probabilities: [0.8, 0.2],
    score: 0.2,
    latencyMs: 1.5,
    ...overrides,
  };
}

let requestSequence = 0;

/** The records of one `count`-row request, as the prediction service makes them: ids `<prefix>-<row>`. */
export function makeRequestPredictions(
  count: number,
  overrides: Partial<StoredPrediction> = {},
): StoredPrediction[] {
  requestSequence += 1;
  const prefix = `batch${requestSequence}-${process.pid}`;
  const shared = makeStoredPrediction({ requestId: `request-${prefix}`, ...overrides });
  return Array.from({ length: count }, (_, row) => ({
    ...shared,
    predictionId: `${prefix}-${row}`,
    inputs: { income: row, housing: row % 2 === 0 ? 'own' : 'rent' },
    label: row % 3 === 0 ? 'yes' : 'no',
    probabilities: [1 - row / 1000, row / 1000],
    score: row / 1000,
  }));
}
