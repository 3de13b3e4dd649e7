import type { Context } from '@opentelemetry/api';
import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/config';
import { ShutdownService } from '../health/shutdown.service';
import { ModelPoolService } from '../inference/model-pool.service';
import { PredictionService } from '../prediction/prediction.service';
import { serviceVersion } from '../telemetry/log-pipeline';
import {
  readScoringCsv,
  readScoringJson,
  type ScoringRequest,
  scoringResponse,
} from './domain/mlflow-scoring';

/**
 * MLflow's scoring server protocol for the `DEFAULT_MODEL`'s Production version (what
 * `mlflow models serve -m models:/<name>/Production` would serve), on Vigil's prediction path.
 */
@Injectable()
export class MlflowScoringService {
  readonly modelName: string;

  constructor(
    private readonly pool: ModelPoolService,
    private readonly shutdown: ShutdownService,
    private readonly predictions: PredictionService,
    config: AppConfig,
  ) {
    this.modelName = config.DEFAULT_MODEL;
  }

  /** `/ping`, `/health`: the served model is loaded and the process is not draining. */
  healthy(): boolean {
    return !this.shutdown.draining && this.pool.getProduction(this.modelName) !== undefined;
  }

  version(): string {
    return serviceVersion();
  }

  /** `body` is the parsed JSON, or the raw text when `csv`. */
  async invocations(
    body: unknown,
    csv: boolean,
    requestId: string,
    traceContext?: Context,
  ): Promise<{ predictions: unknown[] }> {
    const name = this.modelName;
    const model = this.pool.getProduction(name) ?? (await this.pool.explainMiss(name));
    let request: ScoringRequest;
    try {
      request = csv
        ? readScoringCsv(typeof body === 'string' ? body : '', model.signature.features)
        : readScoringJson(body, model.signature.features);
    } catch (error) {
      model.metrics.invalidInputs.inc();
      throw error;
    }
    const answer = await this.predictions.predict(name, { instances: request.rows }, requestId, traceContext);
    const classes = Object.keys(answer.predictions[0]?.probabilities ?? {});
    return scoringResponse(request.output, classes, answer.predictions);
  }
}
