import { parse } from 'node:querystring';
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorBody } from './http-error.filter';
import type { ErrorCode } from './errors';

const OPEN_INFERENCE_URL = /^\/v2(?:[/?]|$)/;

/**
 * Errors Fastify's router answers itself, before any hook or Nest filter runs (a malformed
 * percent-encoding, a path parameter over `maxParamLength`): answered in the error envelope instead of
 * Fastify's default body, which echoes the whole URL back.
 */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const tooLong = error.code === 'FST_ERR_MAX_PARAM_LENGTH';
  const message = tooLong
    ? 'A path segment is longer than the 200-character limit'
    : 'The URL is not valid (malformed percent-encoding)';
  // Open Inference clients expect the protocol's own `{error}` body (src/interop).
  const body: ErrorBody | { error: string } = OPEN_INFERENCE_URL.test(request.url)
    ? { error: message }
    : { code: 'INVALID_INPUT', message, requestId: String(request.id) };
  void reply
    .code(tooLong ? 414 : 400)
    .header('x-request-id', String(request.id))
    .send(body);
}

const CLIENT_ERRORS: Record<string, { status: number; reason: string; code: ErrorCode; message: string }> = {
  HPE_HEADER_OVERFLOW: {
    status: 431,
    reason: 'Request Header Fields Too Large',
    code: 'PAYLOAD_TOO_LARGE',
    message: 'Request headers are larger than the limit',
  },
  ERR_HTTP_REQUEST_TIMEOUT: {
    status: 408,
    reason: 'Request Timeout',
    code: 'INVALID_INPUT',
    message: 'The request was not received in time',
  },
};
const MALFORMED = {
  status: 400,
  reason: 'Bad Request',
  code: 'INVALID_INPUT' as ErrorCode,
  message: 'Malformed HTTP request',
};

/**
 * Requests Node's HTTP parser rejects (headers over `--max-http-header-size`, malformed request line
 * or framing, request timeout): answered in the error envelope on the raw socket, then closed.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const answer = CLIENT_ERRORS[error.code ?? ''] ?? MALFORMED;
  const body = JSON.stringify({ code: answer.code, message: answer.message, requestId: randomUUID() });
  // end(), not write() + destroy(): the answer is flushed before the socket closes.
  socket.end(
    `HTTP/1.1 ${answer.status} ${answer.reason}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/**
 * Query strings with one value per key: a repeated key keeps its first value (as Go's `Query().Get`).
 * Every endpoint declares single-valued parameters, and an array where a string was typed reached
 * the services as a 500 (found by fuzzing: `GET /v1/audit?model=a&model=b`).
 */
export function parseQueryString(query: string): Record<string, string> {
  const parsed = parse(query);
  const single: Record<string, string> = {};
  for (const [key, value] of Object.entries(parsed)) {
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined) single[key] = first;
  }
  return single;
}
