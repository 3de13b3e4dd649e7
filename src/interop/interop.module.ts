import { Module, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { InferenceModule } from '../inference/inference.module';
import { RegistryModule } from '../registry/registry.module';
import { installProtocolBodyParsers, installProtocolErrorBodies } from './interop.hooks';
import { MlflowScoringController } from './mlflow-scoring.controller';
import { MlflowScoringService } from './mlflow-scoring.service';
import { OpenInferenceController } from './open-inference.controller';
import { OpenInferenceService } from './open-inference.service';

/**
 * Other servers' protocols on Vigil's prediction path: the Open Inference Protocol (`/v2/...`) and
 * MLflow's scoring server (`/invocations`, `/ping`, `/health`, `/version`). Needs `PredictionModule`.
 */
@Module({
  imports: [InferenceModule, RegistryModule],
  controllers: [OpenInferenceController, MlflowScoringController],
  providers: [OpenInferenceService, MlflowScoringService],
})
export class InteropModule implements OnModuleInit {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  onModuleInit(): void {
    // Absent in a context without HTTP (the CLI).
    const fastify = this.adapterHost.httpAdapter?.getInstance<FastifyInstance>();
    if (fastify === undefined) return;
    installProtocolBodyParsers(fastify);
    installProtocolErrorBodies(fastify);
  }
}
