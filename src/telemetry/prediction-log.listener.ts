import { Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { AppConfig } from '../config/config';
import { type PredictionRecord, PredictionEvents } from '../prediction/prediction-events';
import { LogPipeline } from './log-pipeline';
import { AppLogger } from './logger';
import { PrivacyPolicy } from './privacy';

/**
 * One ECS prediction event per prediction (label, score, probabilities, latency, and the input features
 * the privacy policy lets through), written through the log pipeline off the request path.
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

  readonly onPredictions = (records: readonly PredictionRecord[]): void => {
    const formatter = this.pipeline.formatter;
    for (const record of records) {
      this.pipeline.write(formatter.predictionLine(record, this.privacy.apply(record.inputs)));
    }
  };
}
