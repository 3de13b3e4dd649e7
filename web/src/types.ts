/**
 * The shapes the web app reads from the API. The source of truth is the server: `src/common/signature.ts`,
 * `src/registry/domain/model-version.ts`, `src/monitoring/domain/report.ts`, `src/monitoring/feedback.service.ts`,
 * `src/prediction/prediction.service.ts`. Only the fields the app uses are declared.
 */
export interface NumericFeature {
  name: string;
  type: 'numeric';
  description?: string;
  min?: number;
  max?: number;
  integer?: boolean;
  trainingMin: number;
  trainingMax: number;
  example: number;
}

export interface CategoricalFeature {
  name: string;
  type: 'categorical';
  description?: string;
  categories: string[];
  example: string;
}

export type FeatureSpec = NumericFeature | CategoricalFeature;

export interface ModelSignature {
  name: string;
  task: 'binary' | 'multiclass';
  target: string;
  features: FeatureSpec[];
  classes: string[];
  positiveClass?: string;
  primaryMetric: string;
}

export type Stage = 'None' | 'Staging' | 'Production' | 'Archived';

export interface ModelVersion {
  name: string;
  version: number;
  stage: Stage;
  aliases: string[];
  signature: ModelSignature;
  metrics: Record<string, number>;
  parentVersion: number | null;
  description: string | null;
  createdAt: string;
  createdBy: string;
}

export interface RegisteredModel {
  name: string;
  description: string | null;
  productionVersion: number | null;
  latestVersion: number | null;
  versionCount: number;
  aliases: Record<string, number>;
}

export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  action: string;
  model: string | null;
  version: number | null;
  fromStage: Stage | null;
  toStage: Stage | null;
  reason: string | null;
  details: Record<string, unknown> | null;
}

export interface FieldProblem {
  field: string;
  problem: string;
}

export interface Prediction {
  predictionId: string;
  label: string;
  probabilities: Record<string, number>;
  score?: number;
  warnings?: FieldProblem[];
}

export interface PredictResponse {
  model: string;
  version: number;
  requestId: string;
  predictions: Prediction[];
}

export interface FeedbackResponse {
  results: { predictionId: string; model: string; version: number; label: string; status: string }[];
  created: number;
  updated: number;
  unchanged: number;
}

export interface FeatureDrift {
  feature: string;
  method: string;
  score: number;
  threshold: number;
  drifted: boolean;
  psi: number;
  psiLevel: string;
}

export interface MonitoringReport {
  model: string;
  version: number;
  stage: string;
  generatedAt: string;
  referenceRows: number;
  evaluation: {
    evaluatedAt: number;
    window: { size: number; labelled: number; from: number | null; to: number | null };
    drift: {
      features: FeatureDrift[];
      driftedCount: number;
      driftShare: number;
      shareThreshold: number;
      datasetDrift: boolean;
    } | null;
    skippedFeatures: { feature: string; reason: string }[];
    predictionDrift: { label: FeatureDrift | null; score: FeatureDrift | null };
    quality: { rows: number; metrics: Record<string, number | null> } | null;
    trainingQuality: Record<string, number>;
  };
  history: {
    evaluatedAt: number;
    version: number;
    driftShare: number | null;
    datasetDrift: boolean;
    quality: Record<string, number | null> | null;
  }[];
}

/** `GET /v1/ui/config`. */
export interface UiConfig {
  grafanaUrl: string;
  kibanaUrl: string;
  jaegerUrl: string;
  serviceName: string;
  defaultModel: string;
}
