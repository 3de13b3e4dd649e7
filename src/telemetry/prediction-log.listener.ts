import { Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { AppConfig } from '../config/config';
import { type PredictionBatch, PredictionEvents } from '../prediction/prediction-events';
import { LogPipeline } from './log-pipeline';
import { AppLogger } from './logger';
import { PrivacyPolicy } from './privacy';

/**
 * One ECS prediction event per request (label, score, probabilities, latency, and the input features
 * the privacy policy lets through; per-instance fields as arrays when the request had several
 * instances), written through the log pipeline off the request path.
 */
@Injectable()
export class PredictionLogListener implements OnApplicationBootstrap, OnModuleDestroy {
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly config: AppConfig,
    private readonly pipeline: LogPipeline,
    private readonly privacy: PrivacyPolicy,
    private readonly logger: AppLogger,
    private readonly moduleRef: ModuleRef,
  ) {}

  onApplicationBootstrap(): void {
    if (this.privacy.unsalted)
      this.logger.warn(
        'PRIVACY_HASH_FIELDS is set without PRIVACY_HASH_SALT: hashes of small value sets can be reversed',
        {
          'event.action': 'privacy-config',
        },
      );
    if (!this.config.PREDICTION_LOG || !this.pipeline.enabled('info')) return;
    let events: PredictionEvents;
    try {
      // Whichever module provides the fan-out (the prediction module); none means nothing to log.
      events = this.moduleRef.get(PredictionEvents, { strict: false });
    } catch {
      return;
    }
    this.unsubscribe = events.subscribe(this.onPredictions);
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  private readonly applyPrivacy = (
    inputs: Record<string, number | string>,
  ): Record<string, number | string> => this.privacy.apply(inputs);

  readonly onPredictions = (batch: PredictionBatch): void => {
    // One event per request, not per instance: a 100-row batch is one line.
    const formatter = this.pipeline.formatter;
    if (batch.rows === 1) {
      this.pipeline.write(formatter.predictionLine(batch, this.privacy.apply(batch.inputs[0]!)));
    } else if (batch.rows > 1) {
      // No rule to apply: the line may take the request's own text of the inputs.
      this.pipeline.write(
        formatter.predictionBatchLine(batch, this.privacy.isNoop ? undefined : this.applyPrivacy),
      );
    }
  };
}
