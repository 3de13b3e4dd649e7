import { randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Injectable } from '@nestjs/common';
import { AppError } from '../common/errors';
import { ArtifactStore } from './artifact.store';
import type { ParamValue } from './domain/model-version';
import { flattenMetrics, sortRunsByMetric } from './domain/metrics';
import { RUN_STATUSES, type Run, type RunArtifact, type RunStatus, type RunWithHistory } from './domain/run';
import { TrackingStore } from './tracking.store';

export type RunArtifactInput = { name: string; content: Buffer } | { name: string; path: string };

export class RunNotFoundError extends AppError {
  constructor(runId: string) {
    super('RUN_NOT_FOUND', `Run "${runId}" does not exist`);
  }
}

const METRIC_KEY = /^[\w.\-/]{1,100}$/;

/** Experiment tracking: training records a run, logs per-step metrics, finishes it with its artifacts. */
@Injectable()
export class TrackingService {
  constructor(
    private readonly store: TrackingStore,
    private readonly artifacts: ArtifactStore,
  ) {}

  async createRun(
    experiment: string,
    params: Record<string, ParamValue> = {},
    tags: Record<string, string> = {},
  ): Promise<string> {
    if (experiment.trim() === '') throw new AppError('INVALID_INPUT', 'experiment must not be empty');
    const runId = randomUUID();
    await this.store.insertRun({
      runId,
      experiment,
      status: 'RUNNING',
      params,
      tags,
      metrics: {},
      artifacts: [],
      startedAt: new Date().toISOString(),
      endedAt: null,
    });
    return runId;
  }

  /** Appends one point of a metric's history (e.g. loss per boosting round); returns its step. */
  async logMetric(runId: string, key: string, value: number, step?: number): Promise<number> {
    if (!METRIC_KEY.test(key)) throw new AppError('INVALID_INPUT', `metric key "${key}" is not valid`);
    if (!Number.isFinite(value)) throw new AppError('INVALID_INPUT', `metric ${key} must be a finite number`);
    if (step !== undefined && (!Number.isInteger(step) || step < 0))
      throw new AppError('INVALID_INPUT', `step must be a non-negative integer`);
    await this.getRun(runId);
    return this.store.logMetric(runId, key, value, step, new Date().toISOString());
  }

  /** A whole metric history at once (e.g. the loss per boosting round a finished training reports). */
  async logMetricHistory(
    runId: string,
    key: string,
    points: readonly { step: number; value: number }[],
  ): Promise<void> {
    if (!METRIC_KEY.test(key)) throw new AppError('INVALID_INPUT', `metric key "${key}" is not valid`);
    const valid = points.filter(
      (point) => Number.isInteger(point.step) && point.step >= 0 && Number.isFinite(point.value),
    );
    await this.getRun(runId);
    await this.store.logMetricHistory(runId, key, valid, new Date().toISOString());
  }

  async finishRun(
    runId: string,
    status: RunStatus,
    metrics: Record<string, number>,
    artifacts: RunArtifactInput[] = [],
  ): Promise<Run> {
    if (!RUN_STATUSES.includes(status)) throw new AppError('INVALID_INPUT', `unknown run status "${status}"`);
    const run = await this.getRun(runId);
    const stored: RunArtifact[] = [...run.artifacts];
    for (const artifact of artifacts) {
      const content = 'content' in artifact ? artifact.content : await readFile(artifact.path);
      const { sha256, sizeBytes } = await this.artifacts.put(content);
      const index = stored.findIndex((existing) => existing.name === artifact.name);
      const entry = { name: artifact.name, sha256, sizeBytes };
      if (index >= 0) stored[index] = entry;
      else stored.push(entry);
    }
    const finite = Object.fromEntries(Object.entries(metrics).filter(([, value]) => Number.isFinite(value)));
    await this.store.finishRun(runId, {
      status,
      metrics: { ...run.metrics, ...finite },
      artifacts: stored,
      endedAt: new Date().toISOString(),
    });
    return this.getRun(runId);
  }

  /**
   * A finished training, read from its artifacts folder (model.onnx, signature.json, metrics.json,
   * reference.json, history.json), as a FINISHED run with per-step metric history: what `vigil train
   * --track` and the registry bootstrap record.
   */
  async recordRunFromFolder(
    experiment: string,
    folder: string,
    tags: Record<string, string> = {},
  ): Promise<string> {
    const files = new Set(await readdir(folder));
    const readJson = async (file: string): Promise<unknown> =>
      files.has(file) ? (JSON.parse(await readFile(join(folder, file), 'utf8')) as unknown) : undefined;
    const signature = (await readJson('signature.json')) as
      { hyperParameters?: Record<string, ParamValue> } | undefined;
    const metrics = ((await readJson('metrics.json')) ?? {}) as Record<string, unknown>;
    const runId = await this.createRun(experiment, signature?.hyperParameters ?? {}, { folder, ...tags });
    for (const [key, points] of Object.entries(historyByMetric(await readJson('history.json'))))
      await this.logMetricHistory(runId, key, points);
    await this.finishRun(
      runId,
      'FINISHED',
      flattenMetrics(metrics).metrics,
      RUN_ARTIFACTS.filter((file) => files.has(file)).map((file) => ({
        name: file,
        path: join(folder, file),
      })),
    );
    return runId;
  }

  async getRun(runId: string): Promise<Run> {
    const run = await this.store.getRun(runId);
    if (!run) throw new RunNotFoundError(runId);
    return run;
  }

  async getRunWithHistory(runId: string): Promise<RunWithHistory> {
    const run = await this.getRun(runId);
    return { ...run, history: await this.store.history(runId) };
  }

  async listRuns(filter: { experiment?: string; limit?: number } = {}): Promise<Run[]> {
    return this.store.listRuns({ experiment: filter.experiment, limit: Math.min(filter.limit ?? 100, 1000) });
  }

  /** Runs as a table sorted by one metric (best first unless `order: 'asc'`, e.g. for a loss). */
  async compareRuns(options: {
    metric: string;
    experiment?: string;
    runIds?: string[];
    order?: 'asc' | 'desc';
    limit?: number;
  }): Promise<Run[]> {
    const runs = await this.store.listRuns({
      experiment: options.experiment,
      runIds: options.runIds,
      limit: Math.min(options.limit ?? 100, 1000),
    });
    return sortRunsByMetric(runs, options.metric, options.order ?? 'desc');
  }

  async readRunArtifact(run: Run, name: string): Promise<Buffer | null> {
    const artifact = run.artifacts.find((candidate) => candidate.name === name);
    return artifact ? this.artifacts.read(artifact.sha256) : null;
  }

  async artifactInUse(sha256: string): Promise<boolean> {
    return this.store.artifactInUse(sha256);
  }
}

const RUN_ARTIFACTS = ['model.onnx', 'signature.json', 'metrics.json', 'reference.json', 'history.json'];

/** `[{ step: 1, trainLoss: 0.54, validationLoss: 0.51 }, …]` → `{ train_loss: [{ step: 1, value: 0.54 }], … }`. */
export function historyByMetric(history: unknown): Record<string, { step: number; value: number }[]> {
  const byMetric: Record<string, { step: number; value: number }[]> = {};
  if (!Array.isArray(history)) return byMetric;
  for (const record of history as unknown[]) {
    if (typeof record !== 'object' || record === null) continue;
    const step = (record as { step?: unknown }).step;
    if (typeof step !== 'number') continue;
    for (const [key, value] of Object.entries(record)) {
      if (key === 'step' || typeof value !== 'number') continue;
      const metric = key.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
      (byMetric[metric] ??= []).push({ step, value });
    }
  }
  return byMetric;
}
