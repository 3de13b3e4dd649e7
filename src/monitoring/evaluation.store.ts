import { Injectable } from '@nestjs/common';
import { SqlDatabase } from '../database/sql-database';
import type { Evaluation } from './domain/evaluation';

/** One point of the history: what the report's "over time" charts draw. */
export interface EvaluationSummary {
  evaluatedAt: number;
  version: number;
  windowSize: number;
  labelled: number;
  driftShare: number | null;
  datasetDrift: boolean;
  quality: Record<string, number | null> | null;
}

/** The history of scheduled evaluations (one row per run, the full result as JSON). */
@Injectable()
export class EvaluationStore {
  constructor(private readonly database: SqlDatabase) {}

  async insert(evaluation: Evaluation): Promise<void> {
    await this.database.execute(
      `INSERT INTO monitoring_evaluations (model_name, version, evaluated_at_ms, window_size, labelled, drift_share, dataset_drift, result)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [
        evaluation.model,
        evaluation.version,
        evaluation.evaluatedAt,
        evaluation.window.size,
        evaluation.window.labelled,
        evaluation.drift?.driftShare ?? null,
        evaluation.drift?.datasetDrift ?? false,
        JSON.stringify(evaluation),
      ],
    );
  }

  /** The newest `limit` evaluations of a model, oldest first. */
  async history(model: string, limit: number): Promise<EvaluationSummary[]> {
    const rows = await this.database.query<{
      evaluated_at_ms: number;
      version: number;
      window_size: number;
      labelled: number;
      drift_share: number | null;
      dataset_drift: number | boolean;
      result: string;
    }>(
      `SELECT evaluated_at_ms, version, window_size, labelled, drift_share, dataset_drift, result
       FROM monitoring_evaluations WHERE model_name = $1 ORDER BY evaluated_at_ms DESC, id DESC LIMIT $2`,
      [model, limit],
    );
    return rows.reverse().map((row) => {
      const result = JSON.parse(row.result) as Evaluation;
      return {
        evaluatedAt: Number(row.evaluated_at_ms),
        version: Number(row.version),
        windowSize: Number(row.window_size),
        labelled: Number(row.labelled),
        driftShare: row.drift_share === null ? null : Number(row.drift_share),
        datasetDrift: Boolean(Number(row.dataset_drift)),
        quality: result.quality?.metrics ?? null,
      };
    });
  }

  async latest(model: string): Promise<Evaluation | null> {
    const [row] = await this.database.query<{ result: string }>(
      `SELECT result FROM monitoring_evaluations WHERE model_name = $1 ORDER BY evaluated_at_ms DESC, id DESC LIMIT 1`,
      [model],
    );
    return row ? (JSON.parse(row.result) as Evaluation) : null;
  }

  async deleteOlderThan(cutoffMs: number): Promise<number> {
    return (
      await this.database.execute(`DELETE FROM monitoring_evaluations WHERE evaluated_at_ms < $1`, [cutoffMs])
    ).rowCount;
  }
}
