import { autoIncrementKey, type Migration } from '../database/migrations';

/** Registry and experiment-tracking tables. Times are ISO-8601 TEXT; JSON documents are TEXT. */
export const REGISTRY_MIGRATIONS: readonly Migration[] = [
  {
    id: 'registry-001-models-versions',
    up: [
      `CREATE TABLE registered_models (
        name TEXT PRIMARY KEY,
        description TEXT,
        tags TEXT NOT NULL DEFAULT '{}',
        next_version INTEGER NOT NULL DEFAULT 1,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      )`,
      `CREATE TABLE model_versions (
        model_name TEXT NOT NULL REFERENCES registered_models (name) ON DELETE CASCADE,
        version INTEGER NOT NULL,
        stage TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        size_bytes BIGINT NOT NULL,
        signature TEXT NOT NULL,
        metrics TEXT NOT NULL,
        params TEXT NOT NULL,
        reference TEXT,
        run_id TEXT,
        parent_version INTEGER,
        dataset_fingerprint TEXT NOT NULL,
        git_commit TEXT,
        description TEXT,
        created_at TEXT NOT NULL,
        created_by TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (model_name, version)
      )`,
      // The database itself refuses a second Production version, whatever the application does.
      `CREATE UNIQUE INDEX model_versions_one_production ON model_versions (model_name) WHERE stage = 'Production'`,
      `CREATE INDEX model_versions_stage ON model_versions (stage)`,
      `CREATE TABLE model_aliases (
        model_name TEXT NOT NULL,
        alias TEXT NOT NULL,
        version INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (model_name, alias),
        FOREIGN KEY (model_name, version) REFERENCES model_versions (model_name, version) ON DELETE CASCADE
      )`,
    ],
  },
  {
    id: 'registry-002-audit-log',
    up: (dialect) => [
      `CREATE TABLE registry_audit_log (
        id ${autoIncrementKey(dialect)},
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        model_name TEXT,
        version INTEGER,
        from_stage TEXT,
        to_stage TEXT,
        reason TEXT,
        details TEXT
      )`,
      `CREATE INDEX registry_audit_log_model ON registry_audit_log (model_name, id)`,
    ],
  },
  {
    id: 'registry-003-runs',
    up: [
      `CREATE TABLE runs (
        run_id TEXT PRIMARY KEY,
        experiment TEXT NOT NULL,
        status TEXT NOT NULL,
        params TEXT NOT NULL,
        tags TEXT NOT NULL,
        metrics TEXT NOT NULL,
        artifacts TEXT NOT NULL,
        started_at TEXT NOT NULL,
        ended_at TEXT
      )`,
      `CREATE INDEX runs_experiment ON runs (experiment, started_at)`,
      `CREATE TABLE run_metrics (
        run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
        metric_key TEXT NOT NULL,
        step INTEGER NOT NULL,
        value DOUBLE PRECISION NOT NULL,
        logged_at TEXT NOT NULL,
        PRIMARY KEY (run_id, metric_key, step)
      )`,
    ],
  },
];
