import type { ModelSignature } from '../../common/signature';

export const STAGES = ['None', 'Staging', 'Production', 'Archived'] as const;
export type Stage = (typeof STAGES)[number];

export function isStage(value: unknown): value is Stage {
  return typeof value === 'string' && (STAGES as readonly string[]).includes(value);
}

export type ParamValue = string | number | boolean;

/** One immutable artifact + its metadata; only `stage`, `aliases` and `updatedAt` change. */
export interface ModelVersion {
  name: string;
  version: number;
  stage: Stage;
  aliases: string[];
  sha256: string;
  sizeBytes: number;
  signature: ModelSignature;
  /** Flat test metrics (`metrics.json` → `test`). */
  metrics: Record<string, number>;
  params: Record<string, ParamValue>;
  runId: string | null;
  /** Lineage: the version this one was retrained from. */
  parentVersion: number | null;
  datasetFingerprint: string;
  gitCommit: string | null;
  description: string | null;
  createdAt: string;
  createdBy: string;
  updatedAt: string;
}

export interface RegisteredModel {
  name: string;
  description: string | null;
  tags: Record<string, string>;
  createdAt: string;
  updatedAt: string;
  /** Version numbers by stage, and the aliases: a summary for listings. */
  productionVersion: number | null;
  latestVersion: number | null;
  versionCount: number;
  aliases: Record<string, number>;
}

export type AuditAction =
  | 'register'
  | 'transition'
  | 'rollback'
  | 'delete_version'
  | 'delete_model'
  | 'set_alias'
  | 'remove_alias'
  | 'update_model';

/** Who did what, when, from → to, and why. */
export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  action: AuditAction;
  model: string | null;
  version: number | null;
  fromStage: Stage | null;
  toStage: Stage | null;
  reason: string | null;
  details: Record<string, unknown> | null;
}

export type StageChange = { name: string; version: number; stage: Stage };
