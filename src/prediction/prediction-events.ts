import { Injectable } from '@nestjs/common';
import {
  batchLength,
  type BatchableRecord,
  type PredictionRequestFields,
  predictionIdOf,
} from '../monitoring/domain/prediction-id';

/** One prediction in row form (tests, bulk inserts and the store's reads; the live path emits batches). */
export interface PredictionRecord extends BatchableRecord {
  /** Unique per instance; feedback refers to it. */
  predictionId: string;
  /** Raw input features as received (privacy policy applied by each consumer). */
  inputs: Record<string, number | string>;
  label: string;
  /** Per class, in the signature's class order. */
  probabilities: number[];
  /** Binary models: P(positive class). */
  score?: number;
  /** Features whose value was outside the training range. */
  outOfRange?: string[];
}

/** A number as JSON text (`JSON.stringify` writes `null` for NaN and ±Infinity). */
export function jsonNumber(value: number): string {
  return Number.isFinite(value) ? String(value) : 'null';
}

export interface PredictionBatchFields extends PredictionRequestFields {
  /** Row `r`'s prediction id is `predictionIdOf(batchId, rows, r)`: the batch id itself for a batch of one. */
  batchId: string;
  /** Per row: the raw input features as received (privacy policy applied by each consumer). */
  inputs: readonly Record<string, number | string>[];
  labels: readonly string[];
  /** Per row, its probability per class in the signature's class order: `rows × classCount`, row-major. */
  probabilities: ArrayLike<number>;
  classCount: number;
  /** Binary models, per row: P(positive class). */
  scores?: ArrayLike<number>;
  /** Per row, the features whose value was outside the training range; absent when no row has one. */
  outOfRange?: readonly (readonly string[] | undefined)[];
  /**
   * The request's instances as the client sent them (a JSON array of the rows' objects), when the
   * prediction path kept its body: the store writes this text instead of serialising the rows again.
   */
  inputsJson?: string;
}

/**
 * One request's predictions, by column: what the prediction path hands to its consumers (prediction
 * events, the prediction store) and answers from. A request of 100 rows is one object and a few
 * arrays, not 100 records and their probability arrays; and each probability is formatted once
 * (`probabilityTexts`) for the answer, the store and the log line, where each used to format them all
 * again (docs/performance.md, pass 6).
 */
export class PredictionBatch implements PredictionBatchFields {
  readonly batchId: string;
  readonly requestId: string;
  readonly traceId?: string;
  readonly timestamp: number;
  readonly model: string;
  readonly version: number;
  readonly latencyMs: number;
  readonly inputs: readonly Record<string, number | string>[];
  readonly labels: readonly string[];
  readonly probabilities: ArrayLike<number>;
  readonly classCount: number;
  readonly scores?: ArrayLike<number>;
  readonly outOfRange?: readonly (readonly string[] | undefined)[];
  readonly inputsJson?: string;
  private texts: string[] | undefined;
  private scoresText: string | undefined;
  private labelsText: string | undefined;
  /** `JSON.stringify(batchId)` without its closing quote, then `-`: the start of every row's id text. */
  private idHead: string | undefined;

  constructor(fields: PredictionBatchFields) {
    this.batchId = fields.batchId;
    this.requestId = fields.requestId;
    this.traceId = fields.traceId;
    this.timestamp = fields.timestamp;
    this.model = fields.model;
    this.version = fields.version;
    this.latencyMs = fields.latencyMs;
    this.inputs = fields.inputs;
    this.labels = fields.labels;
    this.probabilities = fields.probabilities;
    this.classCount = fields.classCount;
    this.scores = fields.scores;
    this.outOfRange = fields.outOfRange;
    this.inputsJson = fields.inputsJson;
  }

  /**
   * The batches `records` form (`batchLength`: a request's run of `p-0, p-1, …` ids; anything else
   * alone). `inputsJson` is the first batch's instances text, kept when that batch is all of `records`.
   */
  static fromRecords(records: readonly PredictionRecord[], inputsJson?: string): PredictionBatch[] {
    const batches: PredictionBatch[] = [];
    for (let start = 0; start < records.length;) {
      const count = batchLength(records, start);
      const rows = records.slice(start, start + count);
      const first = rows[0]!;
      const classCount = first.probabilities.length;
      const probabilities = new Float64Array(count * classCount);
      rows.forEach((record, row) => probabilities.set(record.probabilities, row * classCount));
      const scored = rows.some((record) => record.score !== undefined);
      const flagged = rows.some((record) => record.outOfRange !== undefined && record.outOfRange.length > 0);
      batches.push(
        new PredictionBatch({
          batchId: count === 1 ? first.predictionId : first.predictionId.slice(0, -2),
          requestId: first.requestId,
          traceId: first.traceId,
          timestamp: first.timestamp,
          model: first.model,
          version: first.version,
          latencyMs: first.latencyMs,
          inputs: rows.map((record) => record.inputs),
          labels: rows.map((record) => record.label),
          probabilities,
          classCount,
          scores: scored ? rows.map((record) => record.score ?? Number.NaN) : undefined,
          outOfRange: flagged ? rows.map((record) => record.outOfRange) : undefined,
          inputsJson: start === 0 && count === records.length ? inputsJson : undefined,
        }),
      );
      start += count;
    }
    return batches;
  }

  get rows(): number {
    return this.labels.length;
  }

  predictionId(row: number): string {
    return predictionIdOf(this.batchId, this.labels.length, row);
  }

  /** Row `row`'s prediction id as JSON text (what `JSON.stringify(predictionId(row))` writes). */
  predictionIdJson(row: number): string {
    if (this.labels.length === 1) return JSON.stringify(this.batchId);
    this.idHead ??= `${JSON.stringify(this.batchId).slice(0, -1)}-`;
    return `${this.idHead}${row}"`;
  }

  /** Row `row` in row form. */
  record(row: number): PredictionRecord {
    const base = row * this.classCount;
    const record: PredictionRecord = {
      predictionId: this.predictionId(row),
      requestId: this.requestId,
      timestamp: this.timestamp,
      model: this.model,
      version: this.version,
      inputs: this.inputs[row]!,
      label: this.labels[row]!,
      probabilities: Array.from({ length: this.classCount }, (_, index) => this.probabilities[base + index]!),
      latencyMs: this.latencyMs,
    };
    if (this.traceId !== undefined) record.traceId = this.traceId;
    if (this.scores !== undefined) record.score = this.scores[row];
    const flagged = this.outOfRange?.[row];
    if (flagged !== undefined && flagged.length > 0) record.outOfRange = [...flagged];
    return record;
  }

  /** Every row in row form. */
  records(): PredictionRecord[] {
    return Array.from({ length: this.labels.length }, (_, row) => this.record(row));
  }

  /**
   * Every probability as JSON text (`probabilities`' order), formatted on first use and shared by all
   * consumers: number-to-text conversion is most of what serialising a prediction costs.
   */
  probabilityTexts(): readonly string[] {
    if (this.texts === undefined) {
      const count = this.labels.length * this.classCount;
      const texts = new Array<string>(count);
      for (let index = 0; index < count; index++) texts[index] = jsonNumber(this.probabilities[index]!);
      this.texts = texts;
    }
    return this.texts;
  }

  /** Row `row`'s probabilities as a JSON array. */
  rowProbabilitiesJson(row: number): string {
    const texts = this.probabilityTexts();
    const base = row * this.classCount;
    let out = '[';
    for (let index = 0; index < this.classCount; index++)
      out += (index === 0 ? '' : ',') + texts[base + index]!;
    return out + ']';
  }

  /** The first `rows` rows' probabilities as a JSON array of arrays. */
  probabilitiesJson(rows = this.labels.length): string {
    let out = '[';
    for (let row = 0; row < rows; row++) out += (row === 0 ? '' : ',') + this.rowProbabilitiesJson(row);
    return out + ']';
  }

  /**
   * Row `row`'s score as JSON text. A binary model's score is its positive class's probability: the
   * text of the row's probability it equals is shared, and only another score is formatted here (a
   * 100-row credit request formatted its 100 scores three times: answer, log line, store).
   */
  scoreText(row: number): string {
    const score = this.scores![row]!;
    const base = row * this.classCount;
    for (let index = 0; index < this.classCount; index++)
      if (this.probabilities[base + index] === score) return this.probabilityTexts()[base + index]!;
    return jsonNumber(score);
  }

  /** The scores as a JSON array (NaN and ±Infinity as `null`), or undefined when the model has none. */
  scoresJson(): string | undefined {
    const scores = this.scores;
    if (scores === undefined) return undefined;
    if (this.scoresText === undefined) {
      let out = '[';
      for (let row = 0; row < scores.length; row++) out += (row === 0 ? '' : ',') + this.scoreText(row);
      this.scoresText = out + ']';
    }
    return this.scoresText;
  }

  /** The labels as a JSON array, made once for the log line and the store. */
  labelsJson(): string {
    return (this.labelsText ??= JSON.stringify(this.labels));
  }

  /** The first `rows` rows (a queue with room for no more): not the whole request, so no `inputsJson`. */
  slice(rows: number): PredictionBatch {
    const classCount = this.classCount;
    // The constructor takes the fields it declares, not this batch's cached texts.
    return new PredictionBatch({
      ...this,
      batchId: rows === 1 && this.labels.length > 1 ? this.predictionId(0) : this.batchId,
      inputs: this.inputs.slice(0, rows),
      labels: this.labels.slice(0, rows),
      probabilities: Array.prototype.slice.call(this.probabilities, 0, rows * classCount) as number[],
      scores:
        this.scores === undefined
          ? undefined
          : (Array.prototype.slice.call(this.scores, 0, rows) as number[]),
      outOfRange: this.outOfRange?.slice(0, rows),
      inputsJson: undefined,
    });
  }

  /** The same predictions with each row's inputs rewritten (the privacy policy): no `inputsJson`. */
  withInputs(
    rewrite: (inputs: Record<string, number | string>) => Record<string, number | string>,
  ): PredictionBatch {
    return new PredictionBatch({ ...this, inputs: this.inputs.map(rewrite), inputsJson: undefined });
  }
}

export type PredictionListener = (batch: PredictionBatch) => void;

/**
 * Fan-out of finished predictions, one batch per request, to their consumers (ECS prediction events,
 * prediction store). Listeners must be cheap and must not throw: they enqueue and return.
 */
@Injectable()
export class PredictionEvents {
  private readonly listeners: PredictionListener[] = [];

  subscribe(listener: PredictionListener): () => void {
    this.listeners.push(listener);
    return () => {
      const index = this.listeners.indexOf(listener);
      if (index >= 0) this.listeners.splice(index, 1);
    };
  }

  emit(batch: PredictionBatch): void {
    for (const listener of this.listeners) {
      try {
        listener(batch);
      } catch {
        // A consumer's failure never reaches the prediction path; consumers count their own drops.
      }
    }
  }
}
