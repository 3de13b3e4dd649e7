import type { Context } from '@opentelemetry/api';
import { Injectable } from '@nestjs/common';
import { AppError, InvalidInputError } from '../common/errors';
import { ShutdownService } from '../health/shutdown.service';
import type { LoadedModel } from '../inference/loaded-model';
import { ModelPoolService } from '../inference/model-pool.service';
import { PredictionService } from '../prediction/prediction.service';
import { RegistryService } from '../registry/registry.service';
import { serviceVersion } from '../telemetry/log-pipeline';
import {
  type InferResponse,
  inferResponse,
  type ModelMetadataResponse,
  modelMetadata,
  readInferRequest,
} from './domain/open-inference';

export interface ServerMetadataResponse {
  name: string;
  version: string;
  extensions: string[];
}

/** A readiness answer and the HTTP status that goes with it (probes read the status). */
export interface Readiness<T> {
  ready: boolean;
  body: T;
}

const NUMERIC_VERSION = /^v?([1-9]\d{0,8})$/;

/**
 * The Open Inference Protocol over Vigil's serving: requests are translated into `/v1` instances and
 * run by `PredictionService`, so validation, micro-batching, metrics, traces, logs and the prediction
 * store are the same as for `/v1`.
 */
@Injectable()
export class OpenInferenceService {
  constructor(
    private readonly pool: ModelPoolService,
    private readonly registry: RegistryService,
    private readonly shutdown: ShutdownService,
    private readonly predictions: PredictionService,
  ) {}

  serverMetadata(): ServerMetadataResponse {
    return { name: 'vigil', version: serviceVersion(), extensions: [] };
  }

  /**
   * Ready when every Production model is served, the registry answered its last poll and the process
   * is not draining. Reads the pool's state only: a probe costs no query.
   */
  serverReady(): Readiness<{ live: boolean; ready: boolean }> {
    const status = this.pool.status();
    const ready =
      !this.shutdown.draining &&
      status.initialized &&
      status.registryReachable &&
      status.models.every((model) => model.servingVersion !== null);
    return { ready, body: { live: true, ready } };
  }

  async modelMetadata(name: string, version?: string): Promise<ModelMetadataResponse> {
    const signature =
      version === undefined
        ? (this.pool.getProduction(name)?.signature ??
          (await this.registry.getProductionVersion(name)).signature)
        : (await this.resolve(name, version)).signature;
    const versions = (await this.registry.listVersions(name)).map((candidate) => candidate.version);
    return modelMetadata(name, versions, signature);
  }

  /** Unknown model or version: throws (404). A version other than Production is loaded to answer. */
  async modelReady(name: string, version?: string): Promise<Readiness<{ name: string; ready: boolean }>> {
    try {
      if (this.shutdown.draining) throw new AppError('SHUTTING_DOWN', 'The service is shutting down');
      if (version === undefined) {
        if (this.pool.getProduction(name) === undefined) await this.pool.explainMiss(name);
      } else {
        await this.loadVersion(name, version);
      }
      return { ready: true, body: { name, ready: true } };
    } catch (error) {
      if (error instanceof AppError && error.status === 503)
        return { ready: false, body: { name, ready: false } };
      throw error;
    }
  }

  async infer(
    name: string,
    version: string | undefined,
    body: unknown,
    requestId: string,
    traceContext?: Context,
  ): Promise<InferResponse> {
    const model =
      version === undefined
        ? (this.pool.getProduction(name) ?? (await this.pool.explainMiss(name)))
        : await this.loadVersion(name, version);
    let request;
    try {
      request = readInferRequest(body, model.signature);
    } catch (error) {
      model.metrics.invalidInputs.inc();
      throw error;
    }
    const answer =
      version === undefined
        ? await this.predictions.predict(name, { instances: request.instances }, requestId, traceContext)
        : await this.predictions.predictVersion(
            name,
            String(model.version),
            { instances: request.instances },
            requestId,
            traceContext,
          );
    // The version that answered (after a hot swap, maybe not `model`): its classes order the columns.
    const classes = Object.keys(answer.predictions[0]?.probabilities ?? {});
    return inferResponse(
      { name: answer.model, version: answer.version, classes },
      request.id ?? requestId,
      request.outputs,
      answer.predictions,
    );
  }

  /** `3`, `v3` (the spec's example style), or a registry alias / stage (`champion`, `staging`). */
  private async resolve(
    name: string,
    version: string,
  ): Promise<{ version: number; signature: LoadedModel['signature'] }> {
    const numeric = NUMERIC_VERSION.exec(version);
    if (numeric !== null) return this.registry.getVersion(name, Number(numeric[1]));
    if (version.length > 100) throw new InvalidInputError([{ field: 'version', problem: 'is too long' }]);
    return this.registry.resolveVersion(name, version);
  }

  private async loadVersion(name: string, version: string): Promise<LoadedModel> {
    const numeric = NUMERIC_VERSION.exec(version);
    const number = numeric !== null ? Number(numeric[1]) : (await this.resolve(name, version)).version;
    return this.pool.getVersion(name, number);
  }
}
