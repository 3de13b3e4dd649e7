import type { RangeWarning } from './domain/input-validator';
import type { PredictionBatch } from './prediction-events';

export interface Prediction {
  predictionId: string;
  label: string;
  probabilities: Record<string, number>;
  /** Binary models: P(positive class). */
  score?: number;
  /** Values accepted although outside the training range. */
  warnings?: RangeWarning[];
}

export interface PredictResponse {
  model: string;
  version: number;
  requestId: string;
  predictions: Prediction[];
}

/** A model's class names as JSON: object keys (`"setosa":`) and, by name, values (`"setosa"`). */
interface ClassTexts {
  keys: string[];
  values: Map<string, string>;
}

/** Per class list: one per loaded model version, computed on its first answer. */
const classTextsByList = new WeakMap<readonly string[], ClassTexts>();

function classTexts(classes: readonly string[]): ClassTexts {
  let texts = classTextsByList.get(classes);
  if (texts === undefined) {
    texts = {
      keys: classes.map((name) => `${JSON.stringify(name)}:`),
      values: new Map(classes.map((name) => [name, JSON.stringify(name)])),
    };
    classTextsByList.set(classes, texts);
  }
  return texts;
}

/**
 * A request's answer: its prediction batch and what only the answer carries (class names, range
 * warnings). The REST routes send `json()`, text written straight from the batch's columns with the
 * probability texts the store and the log line share; `JSON.stringify` of the objects cost ~100 µs a
 * 100-row answer, most of it formatting numbers already formatted for the store (docs/performance.md,
 * pass 6). The protocol adapters (MLflow, Open Inference) read `predictions`, built on first use.
 */
export class PredictAnswer implements PredictResponse {
  private objects: Prediction[] | undefined;

  constructor(
    readonly batch: PredictionBatch,
    readonly classes: readonly string[],
    /** Per row, the warnings of the values outside the training range; absent when no row has any. */
    readonly warnings: readonly (RangeWarning[] | undefined)[] | undefined,
  ) {}

  get model(): string {
    return this.batch.model;
  }

  get version(): number {
    return this.batch.version;
  }

  get requestId(): string {
    return this.batch.requestId;
  }

  get predictions(): Prediction[] {
    if (this.objects === undefined) {
      const { batch, classes } = this;
      const classCount = classes.length;
      this.objects = new Array<Prediction>(batch.rows);
      for (let row = 0; row < batch.rows; row++) {
        const probabilities: Record<string, number> = {};
        for (let index = 0; index < classCount; index++)
          probabilities[classes[index]!] = batch.probabilities[row * classCount + index]!;
        const prediction: Prediction = {
          predictionId: batch.predictionId(row),
          label: batch.labels[row]!,
          probabilities,
        };
        if (batch.scores !== undefined) prediction.score = batch.scores[row];
        const warnings = this.warnings?.[row];
        if (warnings !== undefined) prediction.warnings = warnings;
        this.objects[row] = prediction;
      }
    }
    return this.objects;
  }

  toJSON(): PredictResponse {
    return {
      model: this.model,
      version: this.version,
      requestId: this.requestId,
      predictions: this.predictions,
    };
  }

  /** The answer as JSON: the text `JSON.stringify(this)` makes, written from the columns. */
  json(): string {
    const batch = this.batch;
    const rows = batch.rows;
    const classCount = this.classes.length;
    const { keys, values } = classTexts(this.classes);
    const texts = batch.probabilityTexts();
    const scores = batch.scores;
    let out = `{"model":${JSON.stringify(batch.model)},"version":${batch.version},"requestId":${JSON.stringify(batch.requestId)},"predictions":[`;
    for (let row = 0; row < rows; row++) {
      const label = batch.labels[row]!;
      out += `${row === 0 ? '' : ','}{"predictionId":${batch.predictionIdJson(row)},"label":${values.get(label) ?? JSON.stringify(label)},"probabilities":{`;
      const base = row * classCount;
      for (let index = 0; index < classCount; index++)
        out += (index === 0 ? '' : ',') + keys[index]! + texts[base + index]!;
      out += '}';
      if (scores !== undefined) out += `,"score":${batch.scoreText(row)}`;
      const warnings = this.warnings?.[row];
      if (warnings !== undefined) out += `,"warnings":${JSON.stringify(warnings)}`;
      out += '}';
    }
    return `${out}]}`;
  }
}
