import { type Context, trace } from '@opentelemetry/api';
import type { FastifyRequest } from 'fastify';

/**
 * The request's trace, passed explicitly instead of through an AsyncLocalStorage context manager.
 *
 * On Node 20 an active AsyncLocalStorage roughly doubles the cost of every promise, and a Nest request
 * creates dozens: with it, tracing cost ~45 µs per request even at 10 % sampling. So no context
 * manager is registered (`tracing.ts`): the Fastify `onRequest` hook (`http-telemetry.ts`) keeps the
 * server span's context on the request (`request.vigilContext`), and whoever needs it (the prediction
 * path for its child spans and `trace.id` of prediction events, a log line written during a request)
 * gets it from the request.
 */
export function traceContextOf(request: FastifyRequest): Context | undefined {
  return request.vigilContext ?? undefined;
}

/**
 * `trace.id` / `span.id` log fields of a request (empty when it is not traced): spread them into
 * `AppLogger` fields to correlate an application line written while serving a request.
 */
export function traceLogFields(request: FastifyRequest): { 'trace.id'?: string; 'span.id'?: string } {
  const spanContext = request.vigilContext ? trace.getSpan(request.vigilContext)?.spanContext() : undefined;
  if (spanContext === undefined || !trace.isSpanContextValid(spanContext)) return {};
  return { 'trace.id': spanContext.traceId, 'span.id': spanContext.spanId };
}
