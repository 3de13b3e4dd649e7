import { Global, Module } from '@nestjs/common';
import { InferenceModule } from '../inference/inference.module';
import { PredictionController } from './prediction.controller';
import { PredictionEvents } from './prediction-events';
import { PredictionService } from './prediction.service';

/** Global so that consumers (prediction log, prediction store, interop protocols) inject these directly. */
@Global()
@Module({
  imports: [InferenceModule],
  controllers: [PredictionController],
  providers: [PredictionService, PredictionEvents],
  exports: [PredictionEvents, PredictionService],
})
export class PredictionModule {}
