import { Inject, Injectable } from '@nestjs/common';
import type { ModelSignature, ReferenceProfile } from '../common/signature';
import { SqlDatabase, type SqlExecutor } from '../database/sql-database';
import type {
  AuditAction,
  AuditEntry,
  ModelVersion,
  ParamValue,
  RegisteredModel,
  Stage,
} from './domain/model-version';

interface ModelRow {
  name: string;
  description: string | null;
  tags: string;
  created_at: string;
  updated_at: string;
}
interface VersionRow {
  model_name: string;
  version: number;
  stage: Stage;
  sha256: string;
  size_bytes: number;
  signature: string;
  metrics: string;
  params: string;
  run_id: string | null;
  parent_version: number | null;
  dataset_fingerprint: string;
  git_commit: string | null;
  description: string | null;
  created_at: string;
  created_by: string;
  updated_at: string;
}
interface AuditRow {
  id: number;
  at: string;
  actor: string;
  action: AuditAction;
  model_name: string | null;
  version: number | null;
  from_stage: Stage | null;
  to_stage: Stage | null;
  reason: string | null;
  details: string | null;
}

export interface NewVersionRow {
  name: string;
  version: number;
  stage: Stage;
  sha256: string;
  sizeBytes: number;
  signature: ModelSignature;
  metrics: Record<string, number>;
  params: Record<string, ParamValue>;
  reference: ReferenceProfile | null;
  runId: string | null;
  parentVersion: number | null;
  datasetFingerprint: string;
  gitCommit: string | null;
  description: string | null;
  createdBy: string;
  at: string;
}

export type NewAuditEntry = Omit<AuditEntry, 'id' | 'at'> & { at?: string };

const VERSION_COLUMNS =
  'model_name, version, stage, sha256, size_bytes, signature, metrics, params, run_id, parent_version, ' +
  'dataset_fingerprint, git_commit, description, created_at, created_by, updated_at';

/**
 * The registry's SQL, one method per statement. Every method takes the executor to run on: the
 * database itself, or the transaction the service opened.
 */
@Injectable()
export class RegistryStore {
  constructor(@Inject(SqlDatabase) readonly database: SqlDatabase) {}

  async ensureModel(tx: SqlExecutor, name: string, at: string): Promise<boolean> {
    const inserted = await tx.execute(
      `INSERT INTO registered_models (name, description, tags, next_version, created_at, updated_at)
       VALUES ($1, NULL, '{}', 1, $2, $2) ON CONFLICT (name) DO NOTHING`,
      [name, at],
    );
    return inserted.rowCount === 1;
  }

  /**
   * Takes the model's row lock (PostgreSQL) or write lock (SQLite) before anything else in the
   * transaction: concurrent writers of one model queue here and then read fresh data.
   */
  async lockModel(tx: SqlExecutor, name: string, at: string): Promise<boolean> {
    const locked = await tx.execute('UPDATE registered_models SET updated_at = $2 WHERE name = $1', [
      name,
      at,
    ]);
    return locked.rowCount === 1;
  }

  async allocateVersion(tx: SqlExecutor, name: string): Promise<number> {
    const [row] = await tx.query<{ next_version: number }>(
      'UPDATE registered_models SET next_version = next_version + 1 WHERE name = $1 RETURNING next_version',
      [name],
    );
    if (!row) throw new Error(`registered model ${name} vanished inside its transaction`);
    return Number(row.next_version) - 1;
  }

  async insertVersion(tx: SqlExecutor, row: NewVersionRow): Promise<void> {
    await tx.execute(
      `INSERT INTO model_versions (${VERSION_COLUMNS}, reference)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $14, $16)`,
      [
        row.name,
        row.version,
        row.stage,
        row.sha256,
        row.sizeBytes,
        JSON.stringify(row.signature),
        JSON.stringify(row.metrics),
        JSON.stringify(row.params),
        row.runId,
        row.parentVersion,
        row.datasetFingerprint,
        row.gitCommit,
        row.description,
        row.at,
        row.createdBy,
        row.reference === null ? null : JSON.stringify(row.reference),
      ],
    );
  }

  async setStage(tx: SqlExecutor, name: string, version: number, stage: Stage, at: string): Promise<void> {
    await tx.execute(
      'UPDATE model_versions SET stage = $3, updated_at = $4 WHERE model_name = $1 AND version = $2',
      [name, version, stage, at],
    );
  }

  async deleteVersion(tx: SqlExecutor, name: string, version: number): Promise<void> {
    await tx.execute('DELETE FROM model_aliases WHERE model_name = $1 AND version = $2', [name, version]);
    await tx.execute('DELETE FROM model_versions WHERE model_name = $1 AND version = $2', [name, version]);
  }

  async deleteModel(tx: SqlExecutor, name: string): Promise<void> {
    await tx.execute('DELETE FROM model_aliases WHERE model_name = $1', [name]);
    await tx.execute('DELETE FROM model_versions WHERE model_name = $1', [name]);
    await tx.execute('DELETE FROM registered_models WHERE name = $1', [name]);
  }

  async countBySha(tx: SqlExecutor, sha256: string): Promise<number> {
    const [row] = await tx.query<{ count: number }>(
      'SELECT COUNT(*) AS count FROM model_versions WHERE sha256 = $1',
      [sha256],
    );
    return Number(row?.count ?? 0);
  }

  async updateModel(
    tx: SqlExecutor,
    name: string,
    changes: { description?: string | null; tags?: Record<string, string> },
    at: string,
  ): Promise<void> {
    if (changes.description !== undefined)
      await tx.execute('UPDATE registered_models SET description = $2, updated_at = $3 WHERE name = $1', [
        name,
        changes.description,
        at,
      ]);
    if (changes.tags !== undefined)
      await tx.execute('UPDATE registered_models SET tags = $2, updated_at = $3 WHERE name = $1', [
        name,
        JSON.stringify(changes.tags),
        at,
      ]);
  }

  async setAlias(
    tx: SqlExecutor,
    name: string,
    alias: string,
    version: number,
    at: string,
  ): Promise<number | null> {
    const previous = await this.aliasVersion(tx, name, alias);
    await tx.execute('DELETE FROM model_aliases WHERE model_name = $1 AND alias = $2', [name, alias]);
    await tx.execute(
      'INSERT INTO model_aliases (model_name, alias, version, created_at) VALUES ($1, $2, $3, $4)',
      [name, alias, version, at],
    );
    return previous;
  }

  async removeAlias(tx: SqlExecutor, name: string, alias: string): Promise<number | null> {
    const previous = await this.aliasVersion(tx, name, alias);
    await tx.execute('DELETE FROM model_aliases WHERE model_name = $1 AND alias = $2', [name, alias]);
    return previous;
  }

  async aliasVersion(tx: SqlExecutor, name: string, alias: string): Promise<number | null> {
    const [row] = await tx.query<{ version: number }>(
      'SELECT version FROM model_aliases WHERE model_name = $1 AND alias = $2',
      [name, alias],
    );
    return row ? Number(row.version) : null;
  }

  async insertAudit(tx: SqlExecutor, entry: NewAuditEntry): Promise<void> {
    await tx.execute(
      `INSERT INTO registry_audit_log (at, actor, action, model_name, version, from_stage, to_stage, reason, details)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [
        entry.at ?? new Date().toISOString(),
        entry.actor,
        entry.action,
        entry.model,
        entry.version,
        entry.fromStage,
        entry.toStage,
        entry.reason,
        entry.details === null ? null : JSON.stringify(entry.details),
      ],
    );
  }

  // --- Reads ----------------------------------------------------------------------------------------

  async modelExists(tx: SqlExecutor, name: string): Promise<boolean> {
    const rows = await tx.query('SELECT name FROM registered_models WHERE name = $1', [name]);
    return rows.length > 0;
  }

  async countModels(): Promise<number> {
    const [row] = await this.database.query<{ count: number }>(
      'SELECT COUNT(*) AS count FROM registered_models',
    );
    return Number(row?.count ?? 0);
  }

  async listModels(): Promise<RegisteredModel[]> {
    const models = await this.database.query<ModelRow>(
      'SELECT name, description, tags, created_at, updated_at FROM registered_models ORDER BY name',
    );
    const summaries = await this.database.query<{ model_name: string; stage: Stage; version: number }>(
      'SELECT model_name, stage, version FROM model_versions',
    );
    const aliases = await this.database.query<{ model_name: string; alias: string; version: number }>(
      'SELECT model_name, alias, version FROM model_aliases ORDER BY alias',
    );
    return models.map((row) => {
      const versions = summaries.filter((summary) => summary.model_name === row.name);
      return {
        name: row.name,
        description: row.description,
        tags: JSON.parse(row.tags) as Record<string, string>,
        createdAt: row.created_at,
        updatedAt: row.updated_at,
        productionVersion: versions.find((version) => version.stage === 'Production')?.version ?? null,
        latestVersion:
          versions.length > 0 ? Math.max(...versions.map((version) => Number(version.version))) : null,
        versionCount: versions.length,
        aliases: Object.fromEntries(
          aliases
            .filter((alias) => alias.model_name === row.name)
            .map((alias) => [alias.alias, Number(alias.version)]),
        ),
      };
    });
  }

  async getVersion(tx: SqlExecutor, name: string, version: number): Promise<ModelVersion | null> {
    const rows = await tx.query<VersionRow>(
      `SELECT ${VERSION_COLUMNS} FROM model_versions WHERE model_name = $1 AND version = $2`,
      [name, version],
    );
    return (await this.withAliases(tx, rows))[0] ?? null;
  }

  async productionVersion(tx: SqlExecutor, name: string): Promise<ModelVersion | null> {
    const rows = await tx.query<VersionRow>(
      `SELECT ${VERSION_COLUMNS} FROM model_versions WHERE model_name = $1 AND stage = 'Production'`,
      [name],
    );
    return (await this.withAliases(tx, rows))[0] ?? null;
  }

  async listVersions(name: string, stage?: Stage, tx: SqlExecutor = this.database): Promise<ModelVersion[]> {
    const rows = stage
      ? await tx.query<VersionRow>(
          `SELECT ${VERSION_COLUMNS} FROM model_versions WHERE model_name = $1 AND stage = $2 ORDER BY version`,
          [name, stage],
        )
      : await tx.query<VersionRow>(
          `SELECT ${VERSION_COLUMNS} FROM model_versions WHERE model_name = $1 ORDER BY version`,
          [name],
        );
    return this.withAliases(tx, rows);
  }

  async listProductionVersions(): Promise<ModelVersion[]> {
    const rows = await this.database.query<VersionRow>(
      `SELECT ${VERSION_COLUMNS} FROM model_versions WHERE stage = 'Production' ORDER BY model_name`,
    );
    return this.withAliases(this.database, rows);
  }

  async reference(name: string, version: number): Promise<ReferenceProfile | null | undefined> {
    const [row] = await this.database.query<{ reference: string | null }>(
      'SELECT reference FROM model_versions WHERE model_name = $1 AND version = $2',
      [name, version],
    );
    if (!row) return undefined;
    return row.reference === null ? null : (JSON.parse(row.reference) as ReferenceProfile);
  }

  /**
   * The version that was Production just before the current one (for rollback): the latest audit
   * entry that put another, still existing version into Production.
   */
  async previousProductionVersion(tx: SqlExecutor, name: string, current: number): Promise<number | null> {
    const rows = await tx.query<{ version: number }>(
      `SELECT a.version FROM registry_audit_log a
       JOIN model_versions v ON v.model_name = a.model_name AND v.version = a.version
       WHERE a.model_name = $1 AND a.to_stage = 'Production' AND a.version <> $2
       ORDER BY a.id DESC LIMIT 1`,
      [name, current],
    );
    return rows[0] ? Number(rows[0].version) : null;
  }

  async listAudit(filter: { model?: string; limit: number; beforeId?: number }): Promise<AuditEntry[]> {
    const conditions: string[] = [];
    const params: (string | number)[] = [];
    if (filter.model !== undefined) {
      params.push(filter.model);
      conditions.push(`model_name = $${params.length}`);
    }
    if (filter.beforeId !== undefined) {
      params.push(filter.beforeId);
      conditions.push(`id < $${params.length}`);
    }
    params.push(filter.limit);
    const rows = await this.database.query<AuditRow>(
      `SELECT id, at, actor, action, model_name, version, from_stage, to_stage, reason, details
       FROM registry_audit_log ${conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : ''}
       ORDER BY id DESC LIMIT $${params.length}`,
      params,
    );
    return rows.map((row) => ({
      id: Number(row.id),
      at: row.at,
      actor: row.actor,
      action: row.action,
      model: row.model_name,
      version: row.version === null ? null : Number(row.version),
      fromStage: row.from_stage,
      toStage: row.to_stage,
      reason: row.reason,
      details: row.details === null ? null : (JSON.parse(row.details) as Record<string, unknown>),
    }));
  }

  private async withAliases(tx: SqlExecutor, rows: VersionRow[]): Promise<ModelVersion[]> {
    if (rows.length === 0) return [];
    const names = [...new Set(rows.map((row) => row.model_name))];
    const placeholders = names.map((_, index) => `$${index + 1}`).join(', ');
    const aliases = await tx.query<{ model_name: string; alias: string; version: number }>(
      `SELECT model_name, alias, version FROM model_aliases WHERE model_name IN (${placeholders}) ORDER BY alias`,
      names,
    );
    return rows.map((row) => ({
      name: row.model_name,
      version: Number(row.version),
      stage: row.stage,
      aliases: aliases
        .filter(
          (alias) => alias.model_name === row.model_name && Number(alias.version) === Number(row.version),
        )
        .map((alias) => alias.alias),
      sha256: row.sha256,
      sizeBytes: Number(row.size_bytes),
      signature: JSON.parse(row.signature) as ModelSignature,
      metrics: JSON.parse(row.metrics) as Record<string, number>,
      params: JSON.parse(row.params) as Record<string, ParamValue>,
      runId: row.run_id,
      parentVersion: row.parent_version === null ? null : Number(row.parent_version),
      datasetFingerprint: row.dataset_fingerprint,
      gitCommit: row.git_commit,
      description: row.description,
      createdAt: row.created_at,
      createdBy: row.created_by,
      updatedAt: row.updated_at,
    }));
  }
}
