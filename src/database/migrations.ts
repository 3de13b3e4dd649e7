import { MONITORING_MIGRATIONS } from '../monitoring/monitoring.migrations';
import { REGISTRY_MIGRATIONS } from '../registry/registry.migrations';
import type { SqlDialect } from './sql-database';

/**
 * One schema change. `id` is global and never reused (prefix it with the feature). `up` is portable
 * SQL; the function form exists for the rare statement that differs (auto-increment keys).
 */
export interface Migration {
  id: string;
  up: readonly string[] | ((dialect: SqlDialect) => readonly string[]);
}

/** Every migration, applied in this order on both engines. Add a feature's list with one line. */
export const MIGRATIONS: readonly Migration[] = [...REGISTRY_MIGRATIONS, ...MONITORING_MIGRATIONS];

export function migrationStatements(migration: Migration, dialect: SqlDialect): readonly string[] {
  return typeof migration.up === 'function' ? migration.up(dialect) : migration.up;
}

/** An auto-increment integer primary key, the one type the two engines spell differently. */
export function autoIncrementKey(dialect: SqlDialect): string {
  return dialect === 'sqlite' ? 'INTEGER PRIMARY KEY AUTOINCREMENT' : 'BIGSERIAL PRIMARY KEY';
}
