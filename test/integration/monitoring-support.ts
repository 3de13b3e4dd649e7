import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PostgresDatabase } from '../../src/database/postgres.database';
import type { SqlDatabase } from '../../src/database/sql-database';
import { SqliteDatabase } from '../../src/database/sqlite.database';
import { MONITORING_MIGRATIONS } from '../../src/monitoring/monitoring.migrations';
import type { StoredPrediction } from '../../src/monitoring/prediction.store';

export const MONITORING_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/test';
export const DATABASE_KINDS = ['sqlite', 'postgres'] as const;
export type DatabaseKind = (typeof DATABASE_KINDS)[number];

export interface MonitoringTestDatabase {
  database: SqlDatabase;
  cleanup(): Promise<void>;
}

/** A migrated database of its own: a temp SQLite file, or a PostgreSQL schema named after the test. */
export async function openMonitoringDatabase(
  kind: DatabaseKind,
  name: string,
): Promise<MonitoringTestDatabase> {
  if (kind === 'sqlite') {
    const directory = mkdtempSync(join(tmpdir(), `vigil-${name}-`));
    const database = new SqliteDatabase({
      file: join(directory, 'vigil.db'),
      migrations: MONITORING_MIGRATIONS,
    });
    await database.migrate();
    return {
      database,
      cleanup: async () => {
        await database.close();
        rmSync(directory, { recursive: true, force: true });
      },
    };
  }
  const schema = `${name}_${process.pid}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  const database = new PostgresDatabase({
    connectionString: MONITORING_DATABASE_URL,
    schema,
    migrations: MONITORING_MIGRATIONS,
    poolSize: 4,
  });
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
  return {
    database,
    cleanup: async () => {
      await database.dropSchema();
      await database.close();
    },
  };
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
