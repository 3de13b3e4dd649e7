import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import {
  Body,
  Controller,
  Get,
  Global,
  Injectable,
  Module,
  Param,
  Post,
  Req,
  type DynamicModule,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { type Context, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import type { FastifyRequest } from 'fastify';
import { AppError } from '../../src/common/errors';
import { traceContextOf, traceLogFields } from '../../src/common/request-context';
import { HttpErrorFilter } from '../../src/common/http-error.filter';
import { type AppConfig } from '../../src/config/config';
import { ConfigModule } from '../../src/config/config.module';
import { PredictionBatch, PredictionEvents } from '../../src/prediction/prediction-events';
import { setupTelemetry } from '../../src/telemetry/http-telemetry';
import { LOG_PIPELINE_OPTIONS, type LogPipelineOptions } from '../../src/telemetry/log-pipeline';
import { AppLogger } from '../../src/telemetry/logger';
import { TelemetryModule } from '../../src/telemetry/telemetry.module';

/**
 * A small app wired exactly like `createApp` (same telemetry module and hooks) with routes that stand
 * in for the feature modules: the telemetry tests do not depend on the registry or ONNX Runtime.
 */
@Injectable()
class FakePredictionService {
  constructor(private readonly events: PredictionEvents) {}

  /** Like `PredictionService`: the request's trace context comes explicitly (no context manager). */
  async predict(
    model: string,
    inputs: Record<string, number | string>,
    traceContext: Context | undefined,
  ): Promise<{ label: string }> {
    const tracer = trace.getTracer('vigil');
    const parent = traceContext ?? ROOT_CONTEXT;
    const started = performance.now();
    tracer.startSpan('predict.validate', {}, parent).end();
    const queue = tracer.startSpan('predict.queue', {}, parent);
    await new Promise((resolve) => setImmediate(resolve));
    queue.end();
    const inference = tracer.startSpan('predict.inference', {}, parent);
    inference.setAttributes({ 'model.name': model, 'model.version': 1, 'inference.batch_size': 1 });
    inference.end();
    const traceId =
      traceContext === undefined ? undefined : trace.getSpan(traceContext)?.spanContext().traceId;
    // `{"instances": [...]}` predicts several rows in one request, like the real v1 route.
    const instances = (inputs as { instances?: unknown }).instances;
    const rows = Array.isArray(instances) ? (instances as Record<string, number | string>[]) : [inputs];
    const latencyMs = performance.now() - started;
    this.events.emit(
      new PredictionBatch({
        batchId: randomUUID(),
        requestId: 'req',
        traceId,
        timestamp: Date.now(),
        model,
        version: 1,
        latencyMs,
        inputs: rows,
        labels: rows.map(() => 'good'),
        probabilities: rows.flatMap(() => [0.2, 0.8]),
        classCount: 2,
        scores: rows.map(() => 0.8),
        outOfRange: rows.map(() => ['age']),
      }),
    );
    return { label: 'good' };
  }
}

@Controller()
class FakeController {
  constructor(
    private readonly service: FakePredictionService,
    private readonly logger: AppLogger,
  ) {}

  @Get('hello')
  hello(): { hello: string } {
    return { hello: 'world' };
  }

  @Get('items/:id')
  item(@Param('id') id: string): { id: string } {
    return { id };
  }

  @Get('boom')
  boom(@Req() request: FastifyRequest): never {
    this.logger.info('about to fail', {
      authorization: 'Bearer abc.def',
      'model.name': 'credit',
      ...traceLogFields(request),
    });
    throw new AppError('MODEL_NOT_FOUND', 'No such model');
  }

  @Post('predict/:model')
  predict(
    @Param('model') model: string,
    @Body() body: Record<string, number | string>,
    @Req() request: FastifyRequest,
  ): Promise<{ label: string }> {
    return this.service.predict(model, body, traceContextOf(request));
  }
}

@Module({ controllers: [FakeController], providers: [FakePredictionService, PredictionEvents] })
class FakeFeatureModule {}

@Global()
@Module({})
class PipelineOptionsModule {
  static forRoot(options: LogPipelineOptions): DynamicModule {
    return {
      module: PipelineOptionsModule,
      providers: [{ provide: LOG_PIPELINE_OPTIONS, useValue: options }],
      exports: [LOG_PIPELINE_OPTIONS],
    };
  }
}

@Module({})
class HarnessModule {
  static forRoot(config: AppConfig, options: LogPipelineOptions): DynamicModule {
    return {
      module: HarnessModule,
      imports: [
        ConfigModule.forRoot(config),
        PipelineOptionsModule.forRoot(options),
        TelemetryModule,
        FakeFeatureModule,
      ],
    };
  }
}

/** Collects what the log pipeline writes (one entry per line). */
export class LineCollector extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    for (const line of chunk.toString('utf8').split('\n')) if (line !== '') this.lines.push(line);
    callback();
  }
  parsed(): Record<string, unknown>[] {
    return this.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  }
}

export async function createTelemetryHarness(
  config: AppConfig,
  options: LogPipelineOptions = {},
): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(
    HarnessModule.forRoot(config, options),
    // Same request-id handling as createApp.
    new FastifyAdapter({
      logger: false,
      genReqId: (request: { headers: IncomingHttpHeaders }) => {
        const given = request.headers['x-request-id'];
        return typeof given === 'string' && /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID();
      },
    }),
    { logger: false },
  );
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRequest', (request, reply, done) => {
      void reply.header('x-request-id', request.id);
      done();
    });
  setupTelemetry(app);
  app.useGlobalFilters(new HttpErrorFilter(app.get(AppLogger)));
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return app;
}

// --- The index template, as the ECS checks see it ------------------------------------------------

interface Mapping {
  type?: string;
  properties?: Record<string, Mapping>;
}
const template = JSON.parse(
  readFileSync(join(__dirname, '../../monitoring/elasticsearch/index-template.json'), 'utf8'),
) as { template: { mappings: { properties: Record<string, Mapping> } } };

/** Mapped leaf fields of the index template, as dotted names → type. */
function mappedFields(properties: Record<string, Mapping>, prefix = '', out = new Map<string, string>()) {
  for (const [name, mapping] of Object.entries(properties)) {
    if (mapping.properties !== undefined) mappedFields(mapping.properties, `${prefix}${name}.`, out);
    else out.set(`${prefix}${name}`, mapping.type ?? 'object');
  }
  return out;
}
const MAPPED = mappedFields(template.template.mappings.properties);

/** Whether a JSON value can be indexed into a field of this mapping type. */
function compatible(type: string, value: unknown): boolean {
  if (Array.isArray(value)) return value.every((item) => compatible(type, item));
  switch (type) {
    case 'keyword':
    case 'constant_keyword':
    case 'wildcard':
    case 'match_only_text':
    case 'text':
      return typeof value === 'string';
    case 'long':
      return Number.isSafeInteger(value);
    case 'float':
    case 'double':
      return typeof value === 'number' && Number.isFinite(value);
    case 'date':
      return typeof value === 'string' && !Number.isNaN(Date.parse(value)) && value.endsWith('Z');
    case 'flattened':
      return typeof value === 'object' && value !== null;
    default:
      return false;
  }
}

/** Problems of one ECS line against the template (every emitted field must be mapped, with a fitting type): unmapped fields and type mismatches. */
export function ecsProblems(line: Record<string, unknown>): string[] {
  const problems: string[] = [];
  for (const [field, value] of Object.entries(line)) {
    // A field under a flattened one (vigil.*) is a key of that field: any scalar fits.
    const flattenedParent = [...MAPPED].find(
      ([name, type]) => type === 'flattened' && field.startsWith(`${name}.`),
    );
    const type = flattenedParent !== undefined ? 'flattened-leaf' : MAPPED.get(field);
    if (type === 'flattened-leaf') continue;
    if (type === undefined) problems.push(`${field}: not in the index template`);
    else if (!compatible(type, value)) problems.push(`${field}: ${JSON.stringify(value)} is not a ${type}`);
  }
  return problems;
}
