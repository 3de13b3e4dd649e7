import { Global, Module } from '@nestjs/common';
import { InferenceModule } from '../inference/inference.module';
import { PredictionEvents } from './prediction-events';
import { PredictionService } from './prediction.service';

/**
 * The predict routes are plain Fastify handlers installed by `createApp` (`prediction.routes.ts`).
 * Global so that consumers (prediction log, prediction store, interop protocols) inject these directly. */
@Global()
@Module({
  imports: [InferenceModule],
  providers: [PredictionService, PredictionEvents],
  exports: [PredictionEvents, PredictionService],
})
export class PredictionModule {}
