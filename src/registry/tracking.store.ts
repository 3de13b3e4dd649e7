import { Inject, Injectable } from '@nestjs/common';
import { SqlDatabase } from '../database/sql-database';
import type { ParamValue } from './domain/model-version';
import type { MetricPoint, Run, RunArtifact, RunStatus } from './domain/run';

interface RunRow {
  run_id: string;
  experiment: string;
  status: RunStatus;
  params: string;
  tags: string;
  metrics: string;
  artifacts: string;
  started_at: string;
  ended_at: string | null;
}

const RUN_COLUMNS = 'run_id, experiment, status, params, tags, metrics, artifacts, started_at, ended_at';

function toRun(row: RunRow): Run {
  return {
    runId: row.run_id,
    experiment: row.experiment,
    status: row.status,
    params: JSON.parse(row.params) as Record<string, ParamValue>,
    tags: JSON.parse(row.tags) as Record<string, string>,
    metrics: JSON.parse(row.metrics) as Record<string, number>,
    artifacts: JSON.parse(row.artifacts) as RunArtifact[],
    startedAt: row.started_at,
    endedAt: row.ended_at,
  };
}

/** Experiment-tracking SQL: runs and their per-step metric history. */
@Injectable()
export class TrackingStore {
  constructor(@Inject(SqlDatabase) private readonly database: SqlDatabase) {}

  async insertRun(run: Run): Promise<void> {
    await this.database.execute(
      `INSERT INTO runs (${RUN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [
        run.runId,
        run.experiment,
        run.status,
        JSON.stringify(run.params),
        JSON.stringify(run.tags),
        JSON.stringify(run.metrics),
        JSON.stringify(run.artifacts),
        run.startedAt,
        run.endedAt,
      ],
    );
  }

  async finishRun(
    runId: string,
    changes: {
      status: RunStatus;
      metrics: Record<string, number>;
      artifacts: RunArtifact[];
      endedAt: string;
    },
  ): Promise<boolean> {
    const updated = await this.database.execute(
      'UPDATE runs SET status = $2, metrics = $3, artifacts = $4, ended_at = $5 WHERE run_id = $1',
      [
        runId,
        changes.status,
        JSON.stringify(changes.metrics),
        JSON.stringify(changes.artifacts),
        changes.endedAt,
      ],
    );
    return updated.rowCount === 1;
  }

  async logMetric(
    runId: string,
    key: string,
    value: number,
    step: number | undefined,
    at: string,
  ): Promise<number> {
    // Without a step, the point goes after the last one logged for this key.
    const [row] =
      step === undefined
        ? await this.database.query<{ step: number | null }>(
            'SELECT MAX(step) AS step FROM run_metrics WHERE run_id = $1 AND metric_key = $2',
            [runId, key],
          )
        : [{ step: step - 1 }];
    const resolvedStep = row?.step === null || row?.step === undefined ? 0 : Number(row.step) + 1;
    await this.database.execute(
      `INSERT INTO run_metrics (run_id, metric_key, step, value, logged_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (run_id, metric_key, step) DO UPDATE SET value = excluded.value, logged_at = excluded.logged_at`,
      [runId, key, resolvedStep, value, at],
    );
    return resolvedStep;
  }

  async logMetricHistory(
    runId: string,
    key: string,
    points: readonly { step: number; value: number }[],
    at: string,
  ): Promise<void> {
    await this.database.transaction(async (tx) => {
      for (const point of points)
        await tx.execute(
          `INSERT INTO run_metrics (run_id, metric_key, step, value, logged_at) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (run_id, metric_key, step) DO UPDATE SET value = excluded.value, logged_at = excluded.logged_at`,
          [runId, key, point.step, point.value, at],
        );
    });
  }

  async getRun(runId: string): Promise<Run | null> {
    const [row] = await this.database.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM runs WHERE run_id = $1`, [
      runId,
    ]);
    return row ? toRun(row) : null;
  }

  async history(runId: string): Promise<Record<string, MetricPoint[]>> {
    const rows = await this.database.query<{
      metric_key: string;
      step: number;
      value: number;
      logged_at: string;
    }>(
      'SELECT metric_key, step, value, logged_at FROM run_metrics WHERE run_id = $1 ORDER BY metric_key, step',
      [runId],
    );
    const history: Record<string, MetricPoint[]> = {};
    for (const row of rows)
      (history[row.metric_key] ??= []).push({
        step: Number(row.step),
        value: Number(row.value),
        at: row.logged_at,
      });
    return history;
  }

  async listRuns(filter: { experiment?: string; runIds?: string[]; limit: number }): Promise<Run[]> {
    const conditions: string[] = [];
    const params: (string | number)[] = [];
    if (filter.experiment !== undefined) {
      params.push(filter.experiment);
      conditions.push(`experiment = $${params.length}`);
    }
    if (filter.runIds !== undefined && filter.runIds.length > 0) {
      const start = params.length;
      params.push(...filter.runIds);
      conditions.push(`run_id IN (${filter.runIds.map((_, index) => `$${start + index + 1}`).join(', ')})`);
    }
    params.push(filter.limit);
    const rows = await this.database.query<RunRow>(
      `SELECT ${RUN_COLUMNS} FROM runs ${conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : ''}
       ORDER BY started_at DESC, run_id LIMIT $${params.length}`,
      params,
    );
    return rows.map(toRun);
  }

  /** Is this artifact still used by a run? (Artifacts are shared by content.) */
  async artifactInUse(sha256: string): Promise<boolean> {
    const rows = await this.database.query('SELECT run_id FROM runs WHERE artifacts LIKE $1 LIMIT 1', [
      `%${sha256}%`,
    ]);
    return rows.length > 0;
  }
}
