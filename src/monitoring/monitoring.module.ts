import { Module } from '@nestjs/common';
import { RegistryModule } from '../registry/registry.module';
import { EvaluationStore } from './evaluation.store';
import { FeedbackService } from './feedback.service';
import { MonitoringController } from './monitoring.controller';
import { MonitoringService } from './monitoring.service';
import { PredictionRecorder } from './prediction-recorder.service';
import { PredictionStore } from './prediction.store';
import { ReportService } from './report.service';
import { RetrainService } from './retrain.service';
import { RetrainStore } from './retrain.store';
import { TrainingProcess } from './training-process.adapter';
import { AdminTokenGuard } from '../common/admin-token.guard';

/**
 * Prediction store, feedback, evaluation loop, reports and retraining. Needs the global `DatabaseModule`,
 * `TelemetryModule`, `ConfigModule` and `PredictionModule` (for `PredictionEvents`).
 */
@Module({
  imports: [RegistryModule],
  controllers: [MonitoringController],
  providers: [
    PredictionStore,
    PredictionRecorder,
    FeedbackService,
    EvaluationStore,
    MonitoringService,
    ReportService,
    RetrainStore,
    TrainingProcess,
    RetrainService,
    AdminTokenGuard,
  ],
  exports: [
    PredictionStore,
    PredictionRecorder,
    FeedbackService,
    MonitoringService,
    ReportService,
    RetrainService,
  ],
})
export class MonitoringModule {}
