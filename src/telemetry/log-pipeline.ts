import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { Inject, Injectable, type OnApplicationShutdown, Optional } from '@nestjs/common';
import { AppConfig } from '../config/config';
import { EcsFormatter, LOG_LEVEL_SEVERITY, type LogLevel, type ServiceIdentity } from './ecs';
import { ElasticsearchLogShipper, type ElasticsearchLogShipperOptions } from './elasticsearch-log.shipper';
import { LineEncoder } from './encode-lines';
import { Metrics } from './metrics';
import { StdoutLogSink } from './stdout-log.sink';

/** The settings the pipeline reads (a subset of `AppConfig`). */
export type LogPipelineSettings = Pick<
  AppConfig,
  | 'LOG_LEVEL'
  | 'VIGIL_ENV'
  | 'OTEL_SERVICE_NAME'
  | 'ELASTICSEARCH_URL'
  | 'LOG_BUFFER_MAX'
  | 'LOG_BUFFER_MAX_BYTES'
  | 'LOG_BULK_SIZE'
  | 'LOG_FLUSH_INTERVAL_MS'
> &
  Partial<Pick<AppConfig, 'LOG_STREAM'>>;

export interface LogPipelineOptions {
  /** Where lines go besides Elasticsearch; `process.stdout` by default, `null` for none. */
  stream?: Writable | null;
  /** Overrides for the Elasticsearch shipper (tests: timeouts, breaker, sender). */
  elasticsearch?: Partial<ElasticsearchLogShipperOptions>;
}

/** Nest token for `LogPipelineOptions` (optional). */
export const LOG_PIPELINE_OPTIONS = Symbol('LOG_PIPELINE_OPTIONS');

let cachedVersion: string | undefined;
/** The package version (dist/telemetry → ../../package.json, same from src/telemetry). */
export function serviceVersion(): string {
  if (cachedVersion === undefined) {
    try {
      const raw = readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8');
      const version = (JSON.parse(raw) as { version?: unknown }).version;
      cachedVersion = typeof version === 'string' ? version : '0.0.0';
    } catch {
      cachedVersion = '0.0.0';
    }
  }
  return cachedVersion;
}

/**
 * Where every ECS line goes: stdout (batched, bounded) always, and Elasticsearch when
 * `ELASTICSEARCH_URL` is set. Writers (winston `AppLogger`, the access log, prediction events) format a
 * line and call `write`; nothing here blocks, throws, or grows without bound.
 */
@Injectable()
export class LogPipeline implements OnApplicationShutdown {
  readonly formatter: EcsFormatter;
  readonly service: ServiceIdentity;
  private readonly threshold: number;
  private readonly stdout: StdoutLogSink | undefined;
  private readonly elasticsearch: ElasticsearchLogShipper | undefined;
  private readonly encoder = new LineEncoder();

  constructor(
    config: AppConfig,
    @Optional() metrics?: Metrics,
    @Optional() @Inject(LOG_PIPELINE_OPTIONS) options?: LogPipelineOptions,
  ) {
    const settings: LogPipelineSettings = config;
    this.service = {
      name: settings.OTEL_SERVICE_NAME,
      version: serviceVersion(),
      environment: settings.VIGIL_ENV,
    };
    this.formatter = new EcsFormatter(this.service);
    this.threshold = LOG_LEVEL_SEVERITY[settings.LOG_LEVEL as LogLevel] ?? LOG_LEVEL_SEVERITY.info;
    const stream =
      options?.stream !== undefined
        ? options.stream
        : settings.LOG_STREAM === 'stderr'
          ? process.stderr
          : process.stdout;
    if (stream !== null) {
      this.stdout = new StdoutLogSink(stream, {
        maxLines: settings.LOG_BUFFER_MAX,
        maxBytes: settings.LOG_BUFFER_MAX_BYTES,
        onDrop: (count) => metrics?.logEventsDropped.labels('stdout', 'buffer_full').inc(count),
      });
    }
    if (settings.ELASTICSEARCH_URL !== undefined) {
      this.elasticsearch = new ElasticsearchLogShipper(
        {
          url: settings.ELASTICSEARCH_URL,
          dataStream: `logs-vigil-${settings.VIGIL_ENV}`,
          bufferMax: settings.LOG_BUFFER_MAX,
          bufferMaxBytes: settings.LOG_BUFFER_MAX_BYTES,
          bulkSize: settings.LOG_BULK_SIZE,
          flushIntervalMs: settings.LOG_FLUSH_INTERVAL_MS,
          ...options?.elasticsearch,
        },
        metrics,
      );
    }
  }

  /** Whether lines of this level are written at all (check before formatting one). */
  enabled(level: LogLevel): boolean {
    return LOG_LEVEL_SEVERITY[level] <= this.threshold;
  }

  /** Takes one serialized ECS line (no trailing newline), encoded once; each sink queues a copy. */
  write(line: string): void {
    if (this.stdout === undefined && this.elasticsearch === undefined) return;
    const bytes = this.encoder.encode(line);
    this.stdout?.write(bytes);
    this.elasticsearch?.enqueue(bytes);
  }

  /** The Elasticsearch shipper, when configured (health and tests). */
  get shipper(): ElasticsearchLogShipper | undefined {
    return this.elasticsearch;
  }

  /** Writes what the stdout sink holds now (shutdown, tests). */
  flush(): void {
    this.stdout?.flush();
  }

  /** Writes what stdout holds and gives Elasticsearch up to `timeoutMs` to take the rest. */
  async close(timeoutMs = 2000): Promise<void> {
    this.stdout?.flush();
    await this.elasticsearch?.close(timeoutMs);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.close();
  }
}
