import { Injectable } from '@nestjs/common';

/** One prediction, as handed to the prediction log and the prediction store (off the request path). */
export interface PredictionRecord {
  /** Unique per instance; feedback refers to it. */
  predictionId: string;
  requestId: string;
  traceId?: string;
  /** Epoch milliseconds. */
  timestamp: number;
  model: string;
  version: number;
  /** Raw input features as received (privacy policy applied by each consumer). */
  inputs: Record<string, number | string>;
  label: string;
  /** Per class, in the signature's class order. */
  probabilities: number[];
  /** Binary models: P(positive class). */
  score?: number;
  /** Request latency up to the answer, in milliseconds. */
  latencyMs: number;
  /** Features whose value was outside the training range. */
  outOfRange?: string[];
  /**
   * First record of a request only, when its JSON body was kept: the request's instances as the
   * client sent them (a JSON array of `rows` objects, `instancesJson`). The prediction store writes
   * this text instead of serialising every row's `inputs` again, when it stores all `rows` together
   * and no privacy rule rewrites the inputs.
   */
  requestInputs?: { json: string; rows: number };
}

export type PredictionListener = (records: readonly PredictionRecord[]) => void;

/**
 * Fan-out of finished predictions to their consumers (ECS prediction events, prediction store).
 * Listeners must be cheap and must not throw: they enqueue and return.
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

  emit(records: readonly PredictionRecord[]): void {
    for (const listener of this.listeners) {
      try {
        listener(records);
      } catch {
        // A consumer's failure never reaches the prediction path; consumers count their own drops.
      }
    }
  }
}
