import { Injectable } from '@nestjs/common';
import { type MonitoringReport, renderReportHtml } from './domain/report';
import { EvaluationStore } from './evaluation.store';
import { MonitoringService } from './monitoring.service';

const HISTORY_POINTS = 500;

/** Builds the monitoring report: the current window evaluated now, plus the stored history. */
@Injectable()
export class ReportService {
  constructor(
    private readonly monitoring: MonitoringService,
    private readonly history: EvaluationStore,
  ) {}

  async build(model: string, version?: number): Promise<MonitoringReport> {
    const { evaluation, modelVersion, referenceRows } = await this.monitoring.evaluate(model, version);
    const history = (await this.history.history(model, HISTORY_POINTS)).map((point) => ({
      evaluatedAt: point.evaluatedAt,
      version: point.version,
      driftShare: point.driftShare,
      datasetDrift: point.datasetDrift,
      quality: point.quality,
    }));
    return {
      model,
      version: modelVersion.version,
      stage: modelVersion.stage,
      generatedAt: new Date(evaluation.evaluatedAt).toISOString(),
      referenceRows,
      evaluation,
      history,
    };
  }

  async html(model: string, version?: number): Promise<string> {
    return renderReportHtml(await this.build(model, version));
  }
}
