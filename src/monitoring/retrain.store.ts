import { Injectable } from '@nestjs/common';
import { SqlDatabase } from '../database/sql-database';
import type { RetrainTrigger } from './domain/retrain-policy';

export type RetrainStatus = 'running' | 'promoted' | 'staged' | 'failed';

export interface RetrainJob {
  jobId: string;
  model: string;
  trigger: RetrainTrigger;
  status: RetrainStatus;
  parentVersion: number | null;
  newVersion: number | null;
  promoted: boolean;
  requestedAt: string;
  finishedAt: string | null;
  details: Record<string, unknown> | null;
  error: string | null;
}

interface JobRow {
  job_id: string;
  model_name: string;
  trigger_reason: string;
  status: string;
  parent_version: number | null;
  new_version: number | null;
  promoted: number | boolean;
  requested_at_ms: number;
  finished_at_ms: number | null;
  details: string | null;
  error: string | null;
}

function toJob(row: JobRow): RetrainJob {
  return {
    jobId: row.job_id,
    model: row.model_name,
    trigger: row.trigger_reason as RetrainTrigger,
    status: row.status as RetrainStatus,
    parentVersion: row.parent_version === null ? null : Number(row.parent_version),
    newVersion: row.new_version === null ? null : Number(row.new_version),
    promoted: Boolean(Number(row.promoted)),
    requestedAt: new Date(Number(row.requested_at_ms)).toISOString(),
    finishedAt: row.finished_at_ms === null ? null : new Date(Number(row.finished_at_ms)).toISOString(),
    details: row.details === null ? null : (JSON.parse(row.details) as Record<string, unknown>),
    error: row.error,
  };
}

/** Retraining runs: what started them, how they ended, the lineage they produced. */
@Injectable()
export class RetrainStore {
  constructor(private readonly database: SqlDatabase) {}

  async start(job: {
    jobId: string;
    model: string;
    trigger: RetrainTrigger;
    parentVersion: number | null;
  }): Promise<void> {
    const now = Date.now();
    await this.database.execute(
      `INSERT INTO retrain_jobs (job_id, model_name, trigger_reason, status, parent_version, requested_at_ms, started_at_ms)
       VALUES ($1, $2, $3, 'running', $4, $5, $5)`,
      [job.jobId, job.model, job.trigger, job.parentVersion, now],
    );
  }

  async finish(
    jobId: string,
    outcome: {
      status: Exclude<RetrainStatus, 'running'>;
      newVersion?: number | null;
      details?: Record<string, unknown>;
      error?: string;
    },
  ): Promise<void> {
    await this.database.execute(
      `UPDATE retrain_jobs SET status = $2, new_version = $3, promoted = $4, finished_at_ms = $5, details = $6, error = $7 WHERE job_id = $1`,
      [
        jobId,
        outcome.status,
        outcome.newVersion ?? null,
        outcome.status === 'promoted',
        Date.now(),
        outcome.details ? JSON.stringify(outcome.details) : null,
        outcome.error ?? null,
      ],
    );
  }

  async list(model: string, limit = 10): Promise<RetrainJob[]> {
    const rows = await this.database.query<JobRow>(
      `SELECT job_id, model_name, trigger_reason, status, parent_version, new_version, promoted, requested_at_ms, finished_at_ms, details, error
       FROM retrain_jobs WHERE model_name = $1 ORDER BY requested_at_ms DESC LIMIT $2`,
      [model, limit],
    );
    return rows.map(toJob);
  }

  /** When the last run of a model was requested (epoch ms), 0 if never: the feedback trigger counts from there. */
  async lastRequestedAt(model: string): Promise<number> {
    const [row] = await this.database.query<{ requested_at_ms: number }>(
      `SELECT requested_at_ms FROM retrain_jobs WHERE model_name = $1 ORDER BY requested_at_ms DESC LIMIT 1`,
      [model],
    );
    return row ? Number(row.requested_at_ms) : 0;
  }

  /** Runs still `running` long after any run could have finished: their process died. */
  async failStale(olderThanMs: number): Promise<number> {
    return (
      await this.database.execute(
        `UPDATE retrain_jobs SET status = 'failed', error = 'interrupted (the process stopped)', finished_at_ms = $1
         WHERE status = 'running' AND requested_at_ms < $2`,
        [Date.now(), Date.now() - olderThanMs],
      )
    ).rowCount;
  }
}
