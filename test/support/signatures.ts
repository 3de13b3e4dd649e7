import type { FeatureSpec, ModelSignature } from '../../src/common/signature';

/**
 * A binary `ModelSignature` for unit tests. The graph I/O is derived from the features and classes
 * (one `[N,1]` input per feature, float32 or string; `label` and `probabilities`), as the exporter
 * writes it, so a test states only what it is about.
 */
export function makeSignature(
  features: FeatureSpec[],
  overrides: Partial<ModelSignature> = {},
): ModelSignature {
  const finalFeatures = overrides.features ?? features;
  const classes = overrides.classes ?? ['no', 'yes'];
  return {
    schemaVersion: 1,
    name: 'credit',
    task: 'binary',
    family: 'gbdt',
    target: 'default',
    classes,
    positiveClass: classes[1],
    primaryMetric: 'roc_auc',
    hyperParameters: {},
    datasetFingerprint: 'f',
    seed: 1,
    inputs: finalFeatures.map((feature) => ({
      name: feature.name,
      type: feature.type === 'numeric' ? ('float32' as const) : ('string' as const),
      shape: [-1, 1] as [number, number],
    })),
    outputs: [
      { name: 'label', type: 'string', shape: [-1] },
      { name: 'probabilities', type: 'float32', shape: [-1, classes.length] },
    ],
    ...overrides,
    features: finalFeatures,
  };
}
