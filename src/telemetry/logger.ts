import { context, trace } from '@opentelemetry/api';
import { Injectable, type LoggerService, Optional } from '@nestjs/common';
import winston from 'winston';
import type TransportStream from 'winston-transport';
import { makeConfig } from '../config/config';
import type { LogFields, LogLevel } from './ecs';
import { LogPipeline } from './log-pipeline';

export type { LogFields, LogLevel } from './ecs';

/** winston's key for the final serialized line (triple-beam's MESSAGE). */
const MESSAGE = Symbol.for('message');
const FIELDS = Symbol('vigil.fields');

interface EcsInfo extends winston.Logform.TransformableInfo {
  [FIELDS]?: LogFields;
  [MESSAGE]?: string;
}

// winston's runtime export is `Transport`; its typings only declare a namespace alias.
const Transport = (winston as unknown as { Transport: typeof TransportStream }).Transport;

/** A winston transport that hands the serialized line to the pipeline (stdout + Elasticsearch). */
class PipelineTransport extends Transport {
  constructor(private readonly pipeline: LogPipeline) {
    super();
  }
  override log(info: EcsInfo, next: () => void): void {
    const line = info[MESSAGE];
    if (line !== undefined) this.pipeline.write(line);
    next();
  }
}

let fallbackPipeline: LogPipeline | undefined;
/** For `new AppLogger()` outside Nest (scripts, tests): stdout with the default settings. */
function defaultPipeline(): LogPipeline {
  fallbackPipeline ??= new LogPipeline(makeConfig());
  return fallbackPipeline;
}

/**
 * The service's structured logger: ECS JSON through winston, to stdout and (when configured)
 * Elasticsearch. Fields are flat ECS names (`http.request.method`, `model.name`, …); secrets
 * (authorization, tokens, passwords) are redacted; `trace.id`/`span.id` are added inside a traced
 * request. The per-request lines (access log, prediction events) bypass winston for speed.
 */
@Injectable()
export class AppLogger {
  private readonly pipeline: LogPipeline;
  private readonly winston: winston.Logger;

  constructor(@Optional() pipeline?: LogPipeline) {
    this.pipeline = pipeline ?? defaultPipeline();
    const formatter = this.pipeline.formatter;
    const ecs = winston.format((info: EcsInfo) => {
      info[MESSAGE] = formatter.line(info.level as LogLevel, String(info.message), info[FIELDS] ?? {});
      return info;
    });
    this.winston = winston.createLogger({
      levels: { error: 0, warn: 1, info: 2, debug: 3 },
      level: 'debug', // the pipeline decides (checked before a line is built)
      format: ecs(),
      transports: [new PipelineTransport(this.pipeline)],
      exitOnError: false,
    });
  }

  error(message: string, fields: LogFields = {}): void {
    this.write('error', message, fields);
  }
  warn(message: string, fields: LogFields = {}): void {
    this.write('warn', message, fields);
  }
  info(message: string, fields: LogFields = {}): void {
    this.write('info', message, fields);
  }
  debug(message: string, fields: LogFields = {}): void {
    this.write('debug', message, fields);
  }

  isEnabled(level: LogLevel): boolean {
    return this.pipeline.enabled(level);
  }

  protected write(level: LogLevel, message: string, fields: LogFields): void {
    if (!this.pipeline.enabled(level)) return;
    let withTrace = fields;
    if (fields['trace.id'] === undefined) {
      const spanContext = trace.getSpan(context.active())?.spanContext();
      if (spanContext !== undefined && trace.isSpanContextValid(spanContext))
        withTrace = { ...fields, 'trace.id': spanContext.traceId, 'span.id': spanContext.spanId };
    }
    try {
      this.winston.log({ level, message, [FIELDS]: withTrace });
    } catch {
      // Logging never breaks its caller.
    }
  }
}

/** Routes Nest's own messages (bootstrap, exceptions) into the ECS logger. */
export class NestEcsLogger implements LoggerService {
  constructor(private readonly logger: AppLogger) {}

  /** Nest's `log` is bootstrap chatter (mapped routes, module init): debug. */
  log(message: unknown, ...rest: unknown[]): void {
    this.logger.debug(String(message), NestEcsLogger.fields(rest));
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.logger.error(String(message), NestEcsLogger.fields(rest));
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.logger.warn(String(message), NestEcsLogger.fields(rest));
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.logger.debug(String(message), NestEcsLogger.fields(rest));
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.logger.debug(String(message), NestEcsLogger.fields(rest));
  }

  /** Nest passes `[stack?, context?]`: the context becomes `log.logger`, a stack `error.stack_trace`. */
  private static fields(rest: unknown[]): LogFields {
    const fields: LogFields = {};
    const strings = rest.filter((item): item is string => typeof item === 'string');
    const loggerName = strings.at(-1);
    if (loggerName !== undefined) fields['log.logger'] = loggerName;
    if (strings.length > 1) fields['error.stack_trace'] = strings[0];
    return fields;
  }
}
