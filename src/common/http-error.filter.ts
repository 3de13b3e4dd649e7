import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppLogger } from '../telemetry/logger';
import { AppError, type ErrorCode } from './errors';
import { traceLogFields } from './request-context';

/** The one error envelope every endpoint answers with. */
export interface ErrorBody {
  code: ErrorCode;
  message: string;
  details?: unknown;
  requestId: string;
}

const STATUS_TO_CODE: Record<number, ErrorCode> = {
  400: 'INVALID_INPUT',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
  503: 'DEPENDENCY_UNAVAILABLE',
};

interface FastifyLikeError {
  statusCode?: number;
  code?: string;
  message?: string;
}

/** Turns anything thrown into `{ status, body }`; never leaks a stack or an internal path. */
export function toErrorResponse(
  error: unknown,
  requestId: string,
): { status: number; body: ErrorBody; retryAfterSeconds?: number } {
  if (error instanceof AppError) {
    const body: ErrorBody = { code: error.code, message: error.message, requestId };
    if (error.details !== undefined) body.details = error.details;
    return { status: error.status, body, retryAfterSeconds: error.retryAfterSeconds };
  }
  if (error instanceof HttpException) {
    const status = error.getStatus();
    const response = error.getResponse();
    const message =
      typeof response === 'object' && response !== null && 'message' in response
        ? [response.message].flat().map(String).join('; ')
        : error.message;
    return { status, body: { code: STATUS_TO_CODE[status] ?? 'INTERNAL', message, requestId } };
  }
  // Errors raised by Fastify itself before a handler runs (body parser, limits, content type).
  const fastifyError = error as FastifyLikeError | undefined;
  if (
    typeof fastifyError?.statusCode === 'number' &&
    fastifyError.statusCode >= 400 &&
    fastifyError.statusCode < 500
  ) {
    const status = fastifyError.statusCode;
    const message = fastifyError.code?.startsWith('FST_')
      ? describeFastifyError(fastifyError)
      : 'Bad request';
    return { status, body: { code: STATUS_TO_CODE[status] ?? 'INVALID_INPUT', message, requestId } };
  }
  if (isDependencyUnavailable(error)) {
    return {
      status: 503,
      body: {
        code: 'DEPENDENCY_UNAVAILABLE',
        message: 'A dependency (the database) is unavailable; retry shortly',
        requestId,
      },
      retryAfterSeconds: 1,
    };
  }
  return { status: 500, body: { code: 'INTERNAL', message: 'Internal error', requestId } };
}

/** Network and PostgreSQL codes of a database that is down, restarting or saturated. */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'SQLITE_BUSY',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '53300', // too_many_connections
]);
const UNAVAILABLE_MESSAGE =
  /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|connect ECONNREFUSED)/;

/** A lost dependency is a 503 the client may retry (it keeps its request), not a 500 bug. */
export function isDependencyUnavailable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && (UNAVAILABLE_CODES.has(code) || code.startsWith('08'))) return true;
  return error instanceof Error && UNAVAILABLE_MESSAGE.test(error.message);
}

function describeFastifyError(error: FastifyLikeError): string {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'Request body is larger than the configured limit';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return 'Unsupported content type';
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return 'Body is empty but content-type is application/json';
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return 'Body is not valid JSON';
    default:
      return (error.message ?? 'Bad request').replace(/\/[\w./-]+/g, '');
  }
}

/**
 * Answers `error` with the error envelope (the filter's work, also called by the plain Fastify predict
 * routes, which Nest's filters do not see). Unknown errors are logged with their stack, never sent.
 */
export function sendError(
  error: unknown,
  request: FastifyRequest,
  reply: FastifyReply,
  logger: AppLogger,
): void {
  const { status, body, retryAfterSeconds } = toErrorResponse(error, String(request.id));
  if (status >= 500 && !(error instanceof AppError)) {
    logger.error('Unhandled error', {
      'error.type': error instanceof Error ? error.name : typeof error,
      'error.message': error instanceof Error ? error.message : String(error),
      'error.stack_trace': error instanceof Error ? error.stack : undefined,
      'http.request.id': body.requestId,
      ...traceLogFields(request),
    });
  }
  if (retryAfterSeconds !== undefined) void reply.header('retry-after', String(retryAfterSeconds));
  // A route may have declared another type (@Header on the artifact download): the envelope is JSON.
  void reply.status(status).header('content-type', 'application/json; charset=utf-8').send(body);
}

@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  constructor(private readonly logger: AppLogger) {}

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    sendError(error, http.getRequest<FastifyRequest>(), http.getResponse<FastifyReply>(), this.logger);
  }
}
