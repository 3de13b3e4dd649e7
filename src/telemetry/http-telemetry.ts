import {
  type Context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { AppConfig } from '../config/config';
import { type GaugeSeries, gaugeSeries, type HistogramSeries, histogramSeries } from './bound-series';
import { LogPipeline } from './log-pipeline';
import { AppLogger, NestEcsLogger } from './logger';
import { Metrics } from './metrics';
import { tracingHandle } from './tracing';

declare module 'fastify' {
  interface FastifyRequest {
    /** Route template (`/predict/:model`) or `unmatched`: the only route value telemetry uses. */
    vigilRoute: string;
    /** Trace and span id of the request's server span ('' when not traced). */
    vigilTraceId: string;
    vigilSpanId: string;
    /** Counted in the active-requests gauge and not yet released. */
    vigilActive: boolean;
    /**
     * The server span (recording or not) until it ends, and the context holding it: passed explicitly
     * to the handler's work (no AsyncLocalStorage, see `src/common/request-context.ts`).
     */
    vigilSpan: Span | null;
    vigilContext: Context | null;
  }
}

/** Route label for requests no route matched (404s): never the raw URL (unbounded cardinality). */
export const UNMATCHED_ROUTE = 'unmatched';
const KNOWN_METHODS = new Set([
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'PATCH',
  'OPTIONS',
  'CONNECT',
  'TRACE',
]);
/** Routes left out of the access log and of traces: scrapes and probes every few seconds are noise. */
const QUIET_ROUTE = /^\/(?:metrics|health)(?:\/|$)/;

export interface HttpTelemetryOptions {
  /** HTTP metrics and `GET /metrics`; off when undefined. */
  metrics?: Metrics;
  /** One access-log line per request; off when undefined. */
  accessLog?: LogPipeline;
  /** Server spans and trace headers (when tracing was started). */
  tracing?: boolean;
}

/**
 * Label children bound once per (route, method, status) and looked up through nested maps: no label
 * string is built per request (prom-client's `labels()` hashes its arguments on every call).
 */
class HttpMetricChildren {
  private readonly durations = new Map<string, Map<string, Map<number, HistogramSeries>>>();
  private readonly active = new Map<string, GaugeSeries>();

  constructor(private readonly metrics: Metrics) {}

  duration(route: string, method: string, status: number): HistogramSeries {
    let byMethod = this.durations.get(route);
    if (byMethod === undefined) {
      byMethod = new Map();
      this.durations.set(route, byMethod);
    }
    let byStatus = byMethod.get(method);
    if (byStatus === undefined) {
      byStatus = new Map();
      byMethod.set(method, byStatus);
    }
    let child = byStatus.get(status);
    if (child === undefined) {
      child = histogramSeries(this.metrics.httpRequestDuration, {
        method,
        route,
        status_code: String(status),
      });
      byStatus.set(status, child);
    }
    return child;
  }

  activeRequests(method: string): GaugeSeries {
    let child = this.active.get(method);
    if (child === undefined) {
      child = gaugeSeries(this.metrics.httpActiveRequests, { method });
      this.active.set(method, child);
    }
    return child;
  }
}

/**
 * HTTP telemetry as plain Fastify hooks (a Nest interceptor halves throughput; these cost a few µs):
 * request duration and active requests; the OpenTelemetry server span of the request (W3C
 * `traceparent` in, `x-trace-id` and `traceresponse` out, its context kept on the request for the
 * handler: `traceContextOf(request)`);
 * and one ECS access-log line per request. Call once on the app's Fastify instance, before `app.init()`.
 *
 * The server span is ours rather than `@opentelemetry/instrumentation-http`'s: that instrumentation
 * parses the URL, builds a dozen attributes and binds every request/response listener to the context
 * for every request, sampled or not (measured: about a third of the tracing cost here); these hooks
 * start a non-recording span for unsampled requests, build attributes only for sampled ones, and know
 * the route template from the start (the span is named `METHOD /route` directly).
 */
export function installHttpTelemetry(fastify: FastifyInstance, options: HttpTelemetryOptions): void {
  const { metrics, accessLog } = options;
  const children = metrics !== undefined ? new HttpMetricChildren(metrics) : undefined;
  const tracer = options.tracing === true ? trace.getTracer('vigil-http') : undefined;
  const logInfo = accessLog?.enabled('info') ?? false;
  const logWarn = accessLog?.enabled('warn') ?? false;
  const logError = accessLog?.enabled('error') ?? false;
  const formatter = accessLog?.formatter;

  fastify.decorateRequest('vigilRoute', '');
  fastify.decorateRequest('vigilTraceId', '');
  fastify.decorateRequest('vigilSpanId', '');
  fastify.decorateRequest('vigilActive', false);
  fastify.decorateRequest('vigilSpan', null);
  fastify.decorateRequest('vigilContext', null);

  fastify.addHook(
    'onRequest',
    (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => {
      const route = request.routeOptions.url ?? UNMATCHED_ROUTE;
      request.vigilRoute = route;
      const method = KNOWN_METHODS.has(request.method) ? request.method : '_OTHER';
      if (tracer !== undefined && !QUIET_ROUTE.test(route)) {
        const parent = propagation.extract(ROOT_CONTEXT, request.headers);
        const span = tracer.startSpan(
          route === UNMATCHED_ROUTE ? method : `${method} ${route}`,
          { kind: SpanKind.SERVER },
          parent,
        );
        const spanContext = span.spanContext();
        request.vigilSpan = span;
        request.vigilContext = trace.setSpan(parent, span);
        request.vigilTraceId = spanContext.traceId;
        request.vigilSpanId = spanContext.spanId;
        void reply.header('x-trace-id', spanContext.traceId);
        // W3C Trace Context level 2 response header: which trace this was and whether it was sampled.
        void reply.header(
          'traceresponse',
          `00-${spanContext.traceId}-${spanContext.spanId}-0${spanContext.traceFlags & 1}`,
        );
        if (span.isRecording()) {
          const query = request.url.indexOf('?');
          span.setAttributes({
            'http.request.method': method,
            'http.route': route,
            'url.path': query === -1 ? request.url : request.url.slice(0, query),
            'url.scheme': request.protocol,
            'network.protocol.version': request.raw.httpVersion,
            'client.address': request.ip,
          });
          const userAgent = request.headers['user-agent'];
          if (userAgent !== undefined) span.setAttribute('user_agent.original', userAgent);
        }
      }
      if (children !== undefined) {
        children.activeRequests(method).inc();
        request.vigilActive = true;
      }
      done();
    },
  );

  // A client that goes away before the answer: no onResponse follows, release the gauge and the span.
  fastify.addHook('onRequestAbort', (request: FastifyRequest, done: HookHandlerDoneFunction) => {
    if (request.vigilActive && children !== undefined) {
      request.vigilActive = false;
      children.activeRequests(KNOWN_METHODS.has(request.method) ? request.method : '_OTHER').dec();
    }
    const span = request.vigilSpan;
    if (span !== null) {
      request.vigilSpan = null;
      span.setStatus({ code: SpanStatusCode.ERROR, message: 'client aborted the request' });
      span.end();
    }
    done();
  });

  fastify.addHook(
    'onResponse',
    (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => {
      const method = KNOWN_METHODS.has(request.method) ? request.method : '_OTHER';
      const route = request.vigilRoute === '' ? UNMATCHED_ROUTE : request.vigilRoute;
      const status = reply.statusCode;
      const elapsedMs = reply.elapsedTime;
      if (children !== undefined) {
        children.duration(route, method, status).observe(elapsedMs / 1000);
        if (request.vigilActive) {
          request.vigilActive = false;
          children.activeRequests(method).dec();
        }
      }
      const span = request.vigilSpan;
      if (span !== null) {
        request.vigilSpan = null;
        span.setAttribute('http.response.status_code', status);
        // Server spans: only 5xx are errors (a 4xx is the client's mistake, answered correctly).
        if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
        span.end();
      }
      if (formatter !== undefined && accessLog !== undefined && !QUIET_ROUTE.test(route)) {
        if (status >= 500 ? logError : status >= 400 ? logWarn : logInfo) {
          accessLog.write(
            formatter.accessLine(
              method,
              request.url,
              route,
              status,
              elapsedMs * 1e6,
              String(request.id),
              request.vigilTraceId === '' ? undefined : request.vigilTraceId,
              request.vigilSpanId,
            ),
          );
        }
      }
      done();
    },
  );

  if (metrics !== undefined) {
    fastify.get('/metrics', async (_request, reply) => {
      void reply.header('content-type', metrics.registry.contentType);
      return metrics.registry.metrics();
    });
  }
}

/**
 * Wires telemetry into a Nest + Fastify app (called by `createApp`, before `app.init()`): HTTP hooks,
 * `GET /metrics` (METRICS_ENABLED), the access log (ACCESS_LOG), and Nest's own messages as ECS lines.
 */
export function setupTelemetry(app: NestFastifyApplication): void {
  const settings = app.get(AppConfig);
  installHttpTelemetry(app.getHttpAdapter().getInstance(), {
    metrics: settings.METRICS_ENABLED ? app.get(Metrics) : undefined,
    accessLog: settings.ACCESS_LOG ? app.get(LogPipeline) : undefined,
    tracing: tracingHandle().enabled,
  });
  app.useLogger(new NestEcsLogger(app.get(AppLogger)));
}
