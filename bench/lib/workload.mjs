// Request bodies for the benchmark: rows drawn inside each feature's training range (so the service
// accepts them without flags), seeded, so every run sends exactly the same requests.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The classic iris ranges, used only when a model directory has no signature.json. */
const IRIS_FALLBACK = {
  name: 'iris',
  classes: ['setosa', 'versicolor', 'virginica'],
  features: [
    { name: 'sepal_length', type: 'numeric', trainingMin: 4.3, trainingMax: 7.9 },
    { name: 'sepal_width', type: 'numeric', trainingMin: 2.0, trainingMax: 4.4 },
    { name: 'petal_length', type: 'numeric', trainingMin: 1.0, trainingMax: 6.9 },
    { name: 'petal_width', type: 'numeric', trainingMin: 0.1, trainingMax: 2.5 },
  ],
};

/** mulberry32: a tiny seeded PRNG (the same rows on every run and machine). */
export function seededRandom(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The model's signature (features, classes), or a fallback for iris; throws when neither exists. */
export function loadSignature(modelsDir, name) {
  const modelPath = join(modelsDir, name, 'model.onnx');
  if (!existsSync(modelPath)) throw new Error(`model not found: ${modelPath}`);
  const signaturePath = join(modelsDir, name, 'signature.json');
  // The directory name is the registry's model name (the bootstrap imports models/<name>/).
  if (existsSync(signaturePath)) return { ...JSON.parse(readFileSync(signaturePath, 'utf8')), name };
  if (name === 'iris') return IRIS_FALLBACK;
  throw new Error(`${signaturePath} is missing: the harness needs it to build valid rows for ${name}`);
}

function numericValue(feature, random) {
  let low = feature.trainingMin ?? feature.min ?? 0;
  let high = feature.trainingMax ?? feature.max ?? 1;
  if (feature.min !== undefined) low = Math.max(low, feature.min);
  if (feature.max !== undefined) high = Math.min(high, feature.max);
  // Stay a little inside the range: values at its edge can be flagged by a strict comparison.
  const span = high - low;
  const value = low + span * (0.05 + 0.9 * random());
  if (feature.integer) return Math.min(Math.max(Math.round(value), Math.ceil(low)), Math.floor(high));
  return Math.round(value * 100) / 100;
}

/** `count` valid rows (feature name → value) for the signature. */
export function makeRows(signature, count, seed = 42) {
  const random = seededRandom(seed);
  const rows = [];
  for (let index = 0; index < count; index += 1) {
    const row = {};
    for (const feature of signature.features) {
      if (feature.type === 'categorical') {
        row[feature.name] = feature.categories[Math.floor(random() * feature.categories.length)];
      } else {
        row[feature.name] = numericValue(feature, random);
      }
    }
    rows.push(row);
  }
  return rows;
}

/**
 * The request bodies of one scenario shape:
 * - `flat`: `POST /predict` with one flat row (the classic demo body; default model only);
 * - `instances`: `POST /v1/models/{name}/predict` with `{"instances": [row × rowsPerRequest]}`.
 * A few distinct bodies are cycled so that caches and the prediction store see varied data.
 */
export function makeRequests(signature, { shape, rowsPerRequest = 1, variants = 32, seed = 42 }) {
  const rows = makeRows(signature, variants * rowsPerRequest, seed);
  const requests = [];
  for (let index = 0; index < variants; index += 1) {
    const slice = rows.slice(index * rowsPerRequest, (index + 1) * rowsPerRequest);
    if (shape === 'flat') {
      requests.push({ method: 'POST', path: '/predict', body: JSON.stringify(slice[0]) });
    } else {
      requests.push({
        method: 'POST',
        path: `/v1/models/${encodeURIComponent(signature.name)}/predict`,
        body: JSON.stringify({ instances: slice }),
      });
    }
  }
  return requests;
}
