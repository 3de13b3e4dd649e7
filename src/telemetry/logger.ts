import { Injectable } from '@nestjs/common';

/** Flat ECS field names (`http.request.method`, `trace.id`, ...) to values. */
export type LogFields = Record<string, unknown>;
export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

/**
 * The service's structured logger (ECS JSON). Placeholder writer until the telemetry module lands:
 * one JSON line per call on stdout.
 */
@Injectable()
export class AppLogger {
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

  protected write(level: LogLevel, message: string, fields: LogFields): void {
    process.stdout.write(
      JSON.stringify({ '@timestamp': new Date().toISOString(), 'log.level': level, message, ...fields }) +
        '\n',
    );
  }
}
