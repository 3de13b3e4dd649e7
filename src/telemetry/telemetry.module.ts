import {
  Global,
  Module,
  type OnApplicationShutdown,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { LogPipeline } from './log-pipeline';
import { AppLogger } from './logger';
import { Metrics } from './metrics';
import { PredictionLogListener } from './prediction-log.listener';
import { PrivacyPolicy } from './privacy';
import { onTraceExportFailure, tracingHandle } from './tracing';

@Global()
@Module({
  providers: [AppLogger, Metrics, LogPipeline, PrivacyPolicy, PredictionLogListener],
  exports: [AppLogger, Metrics, LogPipeline, PrivacyPolicy],
})
export class TelemetryModule implements OnModuleInit, OnModuleDestroy, OnApplicationShutdown {
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly metrics: Metrics) {}

  onModuleInit(): void {
    // Tracing starts before Nest; its export failures reach the catalog from here on.
    this.unsubscribe = onTraceExportFailure((count) => this.metrics.traceExportFailures.inc(count));
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
  }

  async onApplicationShutdown(): Promise<void> {
    await tracingHandle().forceFlush();
  }
}
