import { writeFile } from 'node:fs/promises';
import { type DynamicModule, Global, type INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { type Command, InvalidArgumentError } from 'commander';
import { AppError } from '../common/errors';
import { type AppConfig, loadConfig } from '../config/config';
import { ConfigModule } from '../config/config.module';
import { DatabaseModule } from '../database/database.module';
import { PredictionEvents } from '../prediction/prediction-events';
import { TelemetryModule } from '../telemetry/telemetry.module';
import { renderReportHtml } from './domain/report';
import { MonitoringModule } from './monitoring.module';
import { MonitoringService } from './monitoring.service';
import { ReportService } from './report.service';
import { SIMULATION_DEFAULTS, parseShift, runSimulation } from './traffic-simulator';

/** The CLI has no prediction path: an event bus nobody emits on satisfies the recorder. */
@Global()
@Module({ providers: [PredictionEvents], exports: [PredictionEvents] })
class CliPredictionEventsModule {}

@Module({})
class MonitoringCliModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: MonitoringCliModule,
      imports: [
        ConfigModule.forRoot(config),
        TelemetryModule,
        DatabaseModule,
        CliPredictionEventsModule,
        MonitoringModule,
      ],
    };
  }
}

/** The server's monitoring services on the local store (DATA_DIR / DATABASE_URL), without HTTP. */
async function withLocalContext<T>(fn: (context: INestApplicationContext) => Promise<T>): Promise<T> {
  const context = await NestFactory.createApplicationContext(MonitoringCliModule.forRoot(loadConfig()), {
    logger: ['error'],
  });
  // A one-shot command: no evaluation schedule.
  context.get(MonitoringService).stopSchedule();
  try {
    return await fn(context);
  } finally {
    await context.close();
  }
}

const positiveInteger = (value: string): number => {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw new InvalidArgumentError('must be a positive integer');
  return number;
};
const ratio = (value: string): number => {
  const number = Number(value);
  if (!(number >= 0 && number <= 1)) throw new InvalidArgumentError('must be between 0 and 1');
  return number;
};

async function fetchReport(server: string, model: string, format: string, version?: number): Promise<string> {
  const query = new URLSearchParams({
    format,
    ...(version === undefined ? {} : { version: String(version) }),
  });
  const url = `${server.replace(/\/+$/, '')}/v1/models/${encodeURIComponent(model)}/report?${query.toString()}`;
  const response = await fetch(url).catch((error: unknown) => {
    throw new AppError(
      'DEPENDENCY_UNAVAILABLE',
      `Cannot reach ${server}: ${error instanceof Error ? error.message : String(error)}`,
    );
  });
  const text = await response.text();
  if (!response.ok) {
    let message = `HTTP ${response.status}`;
    let code: string | undefined;
    try {
      const body = JSON.parse(text) as { code?: string; message?: string };
      message = body.message ?? message;
      code = body.code;
    } catch {
      // Not the JSON error envelope.
    }
    throw Object.assign(new Error(message), { code: code ?? 'INTERNAL' });
  }
  return text;
}

/** `vigil report`, `vigil evaluate`, `vigil simulate`. */
export function registerMonitoringCommands(program: Command): void {
  program
    .command('report')
    .description('Write the monitoring report of a model (self-contained HTML, or JSON) to a file')
    .requiredOption('-m, --model <name>', 'registered model name')
    .option('-o, --out <file>', 'output file (default: report-<model>.<format>; "-" for stdout)')
    .option('-f, --format <format>', 'html or json', 'html')
    .option('--model-version <version>', 'version (default: Production)', positiveInteger)
    .option('-s, --server <url>', 'ask a running server instead of reading the local store')
    .action(
      async (options: {
        model: string;
        out?: string;
        format: string;
        modelVersion?: number;
        server?: string;
      }) => {
        if (options.format !== 'html' && options.format !== 'json')
          throw new InvalidArgumentError(`--format must be html or json, got "${options.format}"`);
        const content = options.server
          ? await fetchReport(options.server, options.model, options.format, options.modelVersion)
          : await withLocalContext(async (context) => {
              const report = await context.get(ReportService).build(options.model, options.modelVersion);
              return options.format === 'json'
                ? `${JSON.stringify(report, null, 2)}\n`
                : renderReportHtml(report);
            });
        const out = options.out ?? `report-${options.model}.${options.format}`;
        if (out === '-') process.stdout.write(content);
        else {
          await writeFile(out, content);
          console.log(`Wrote ${out} (${content.length} bytes)`);
        }
      },
    );

  program
    .command('evaluate')
    .description('Run one monitoring evaluation of a model on the local store and record it in the history')
    .requiredOption('-m, --model <name>', 'registered model name')
    .action(async (options: { model: string }) => {
      const evaluation = await withLocalContext((context) =>
        context.get(MonitoringService).evaluateAndRecord(options.model),
      );
      if (!evaluation) {
        console.log('Skipped: another process is evaluating this model right now.');
        return;
      }
      console.log(
        JSON.stringify(
          {
            model: evaluation.model,
            version: evaluation.version,
            window: evaluation.window,
            datasetDrift: evaluation.drift?.datasetDrift ?? null,
            driftShare: evaluation.drift?.driftShare ?? null,
            drifted:
              evaluation.drift?.features
                .filter((feature) => feature.drifted)
                .map((feature) => feature.feature) ?? [],
            quality: evaluation.quality?.metrics ?? null,
          },
          null,
          2,
        ),
      );
    });

  program
    .command('simulate')
    .description('Send realistic (optionally shifted) traffic and feedback to a running server')
    .requiredOption('-s, --server <url>', 'server base URL, e.g. http://localhost:8080')
    .requiredOption('-m, --model <name>', 'registered model name (credit or iris data)')
    .option(
      '-n, --requests <n>',
      'prediction requests to send',
      positiveInteger,
      SIMULATION_DEFAULTS.requests,
    )
    .option('--shift <feature=fraction...>', 'relative change of numeric features, e.g. income=-0.3', [])
    .option(
      '--feedback-rate <ratio>',
      'share of predictions that get their true label',
      ratio,
      SIMULATION_DEFAULTS.feedbackRate,
    )
    .option('-c, --concurrency <n>', 'requests in flight', positiveInteger, SIMULATION_DEFAULTS.concurrency)
    .option('--batch-size <n>', 'instances per request', positiveInteger, SIMULATION_DEFAULTS.batchSize)
    .option('--seed <n>', 'seed of the sampled traffic', positiveInteger, SIMULATION_DEFAULTS.seed)
    .action(
      async (options: {
        server: string;
        model: string;
        requests: number;
        shift: string[];
        feedbackRate: number;
        concurrency: number;
        batchSize: number;
        seed: number;
      }) => {
        let lastPercent = -1;
        const summary = await runSimulation({
          server: options.server,
          model: options.model,
          requests: options.requests,
          shift: parseShift(options.shift),
          feedbackRate: options.feedbackRate,
          concurrency: options.concurrency,
          batchSize: options.batchSize,
          seed: options.seed,
          feedbackBatch: SIMULATION_DEFAULTS.feedbackBatch,
          onProgress: (done, total) => {
            const percent = Math.floor((done / total) * 10) * 10;
            if (percent !== lastPercent && process.stderr.isTTY) process.stderr.write(`\r${percent} %`);
            lastPercent = percent;
          },
        });
        if (process.stderr.isTTY) process.stderr.write('\r');
        console.log(JSON.stringify(summary, null, 2));
        if (summary.failedRequests > 0) process.exitCode = 1;
      },
    );
}
