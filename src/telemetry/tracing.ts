import { context, propagation, trace } from '@opentelemetry/api';
import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ConsoleSpanExporter,
  ParentBasedSampler,
  type ReadableSpan,
  type Sampler,
  SimpleSpanProcessor,
  type SpanExporter,
  type SpanProcessor,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import type { AppConfig } from '../config/config';
import { EncodingSpanProcessor, otlpHttpEncodedSpanExporter } from './encoded-span-processor';
import { serviceVersion } from './log-pipeline';
import { PooledIdGenerator } from './trace-ids';

/** The settings tracing reads (a subset of `AppConfig`). */
export type TracingSettings = Pick<
  AppConfig,
  | 'OTEL_SDK_DISABLED'
  | 'OTEL_SERVICE_NAME'
  | 'OTEL_TRACES_SAMPLER'
  | 'OTEL_TRACES_SAMPLER_ARG'
  | 'OTEL_TRACES_EXPORTER'
  | 'OTEL_BSP_MAX_QUEUE_SIZE'
  | 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE'
  | 'OTEL_BSP_SCHEDULE_DELAY'
  | 'VIGIL_ENV'
>;

export interface TracingOptions {
  /** Replaces the exporter chosen by OTEL_TRACES_EXPORTER (tests: an in-memory exporter). */
  exporter?: SpanExporter;
  /** Exports each span as it ends instead of in batches (tests). */
  simpleProcessor?: boolean;
}

export interface TracingHandle {
  readonly enabled: boolean;
  forceFlush(): Promise<void>;
  /** Flushes, removes the instrumentation and unregisters the global tracer (tests, exit). */
  shutdown(): Promise<void>;
}

/** The sampler named by OTEL_TRACES_SAMPLER (the spec's names), with OTEL_TRACES_SAMPLER_ARG as ratio. */
export function createSampler(name: TracingSettings['OTEL_TRACES_SAMPLER'], ratio: number): Sampler {
  switch (name) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(ratio);
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
    default:
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) });
  }
}

// --- Export failures ------------------------------------------------------------------------------
// Tracing starts before Nest (and before `Metrics` exists): failures are counted here and handed to
// whoever subscribes (the telemetry module feeds `vigil_trace_export_failures_total`).
let unreportedFailures = 0;
let failureListener: ((count: number) => void) | undefined;

function reportExportFailure(): void {
  if (failureListener === undefined) unreportedFailures += 1;
  else failureListener(1);
}

/** Subscribes to failed span exports (one call per failed batch); earlier failures are replayed. */
export function onTraceExportFailure(listener: (count: number) => void): () => void {
  failureListener = listener;
  if (unreportedFailures > 0) listener(unreportedFailures);
  unreportedFailures = 0;
  return () => {
    if (failureListener === listener) failureListener = undefined;
  };
}

/** Wraps an exporter to count failed batches; the result is passed through (never thrown). */
export class CountingSpanExporter implements SpanExporter {
  constructor(
    private readonly inner: SpanExporter,
    private readonly onFailure: () => void = reportExportFailure,
  ) {}

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    try {
      this.inner.export(spans, (result) => {
        if (result.code !== ExportResultCode.SUCCESS) this.onFailure();
        resultCallback(result);
      });
    } catch (error) {
      this.onFailure();
      resultCallback({ code: ExportResultCode.FAILED, error: error as Error });
    }
  }
  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}

const DISABLED: TracingHandle = {
  enabled: false,
  forceFlush: () => Promise.resolve(),
  shutdown: () => Promise.resolve(),
};
let active: TracingHandle | undefined;

/**
 * Starts the OpenTelemetry tracer: W3C trace context and baggage propagation (no context manager:
 * contexts are passed explicitly), our sampler, OTLP/HTTP export in batches. Call before the app is created (`main.ts`
 * imports `instrument.ts` first). HTTP server spans come from the Fastify hooks in
 * `http-telemetry.ts`, not from an `http` monkey-patch. Idempotent: a second call returns the
 * running handle.
 *
 * Why not `@opentelemetry/sdk-node`: it loads every exporter (gRPC, protobuf, Prometheus, Zipkin) and
 * costs ~0.6 s of startup here; these pieces cost ~0.2 s and honour the same OTEL_* variables that matter
 * (endpoint, headers, BSP sizes, resource attributes) through the exporter and processor themselves.
 */
export function startTracing(settings: TracingSettings, options: TracingOptions = {}): TracingHandle {
  if (active !== undefined) return active;
  if (settings.OTEL_SDK_DISABLED) return DISABLED;

  const spanProcessors: SpanProcessor[] = [];
  let exporter: SpanExporter | undefined = options.exporter;
  if (exporter === undefined && settings.OTEL_TRACES_EXPORTER === 'otlp') {
    // OTLP/HTTP JSON, each span encoded as it ends (the batch processor kept the span objects).
    spanProcessors.push(
      new EncodingSpanProcessor(
        otlpHttpEncodedSpanExporter(),
        {
          maxQueueSize: settings.OTEL_BSP_MAX_QUEUE_SIZE,
          maxExportBatchSize: settings.OTEL_BSP_MAX_EXPORT_BATCH_SIZE,
          scheduledDelayMillis: settings.OTEL_BSP_SCHEDULE_DELAY,
        },
        reportExportFailure,
      ),
    );
  }
  if (exporter === undefined && settings.OTEL_TRACES_EXPORTER === 'console')
    exporter = new ConsoleSpanExporter();
  if (exporter !== undefined) {
    const counted = new CountingSpanExporter(exporter);
    spanProcessors.push(
      options.simpleProcessor === true
        ? new SimpleSpanProcessor(counted)
        : // Bounded: beyond maxQueueSize (OTEL_BSP_MAX_QUEUE_SIZE, 2048) spans are dropped, never queued.
          new BatchSpanProcessor(counted),
    );
  }

  const resource = resourceFromAttributes({
    [ATTR_SERVICE_NAME]: settings.OTEL_SERVICE_NAME,
    [ATTR_SERVICE_VERSION]: serviceVersion(),
    'deployment.environment.name': settings.VIGIL_ENV,
  }).merge(detectResources({ detectors: [envDetector] })); // OTEL_RESOURCE_ATTRIBUTES win

  const provider = new NodeTracerProvider({
    resource,
    sampler: createSampler(settings.OTEL_TRACES_SAMPLER, settings.OTEL_TRACES_SAMPLER_ARG),
    idGenerator: new PooledIdGenerator(),
    spanProcessors,
  });
  // W3C traceparent + baggage propagation, and NO context manager: on Node 20 an active
  // AsyncLocalStorage doubles the cost of every promise of every request (sampled or not, once one
  // request entered it). The request's trace context travels explicitly instead: the Fastify hooks keep
  // it on the request, the prediction path receives it (`src/common/request-context.ts`).
  provider.register({ contextManager: null });

  const handle: TracingHandle = {
    enabled: true,
    forceFlush: () => provider.forceFlush().catch(() => undefined),
    shutdown: async () => {
      await provider.shutdown().catch(() => undefined);
      trace.disable();
      propagation.disable();
      context.disable();
      if (active === handle) active = undefined;
    },
  };
  active = handle;
  return handle;
}

/** The running tracing handle (or a disabled one). */
export function tracingHandle(): TracingHandle {
  return active ?? DISABLED;
}
