import { Module } from '@nestjs/common';
import { RegistryModule } from '../registry/registry.module';
import { EvaluationStore } from './evaluation.store';
import { FeedbackService } from './feedback.service';
import { MonitoringController } from './monitoring.controller';
import { MonitoringService } from './monitoring.service';
import { PredictionRecorder } from './prediction-recorder.service';
import { PredictionStore } from './prediction.store';
import { ReportService } from './report.service';

/**
 * Prediction store, feedback, evaluation loop and reports. Needs the global `DatabaseModule`,
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
  ],
  exports: [PredictionStore, PredictionRecorder, FeedbackService, MonitoringService, ReportService],
})
export class MonitoringModule {}
