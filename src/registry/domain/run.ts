import type { ParamValue } from './model-version';

export const RUN_STATUSES = ['RUNNING', 'FINISHED', 'FAILED', 'KILLED'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** A stored run artifact: content-addressed in the artifact store, like model versions. */
export interface RunArtifact {
  name: string;
  sha256: string;
  sizeBytes: number;
}

/** An experiment-tracking run (MLflow's model): params, final metrics, per-step history, artifacts. */
export interface Run {
  runId: string;
  experiment: string;
  status: RunStatus;
  params: Record<string, ParamValue>;
  tags: Record<string, string>;
  /** Final metrics (flat). */
  metrics: Record<string, number>;
  artifacts: RunArtifact[];
  startedAt: string;
  endedAt: string | null;
}

export interface MetricPoint {
  step: number;
  value: number;
  at: string;
}

export interface RunWithHistory extends Run {
  /** Per-step history by metric key, e.g. `{ loss: [{ step: 0, value: 0.69 }, …] }`. */
  history: Record<string, MetricPoint[]>;
}
