import type { FastifyInstance } from 'fastify';
import { AppError } from '../common/errors';
import {
  mlflowError,
  openInferenceError,
  parseEnvelope,
  unsupportedContentTypeMessage,
} from './domain/protocol-errors';

const OPEN_INFERENCE_URL = /^\/v2(?:[/?]|$)/;
const MLFLOW_URL = /^\/(?:invocations|ping|health|version)(?:\?|$)/;
const INVOCATIONS_URL = /^\/invocations(?:\?|$)/;

/**
 * Body parsers for the protocols, without changing any other route:
 * - `text/csv`, read as text, for `POST /invocations` only (the MLflow controller parses it);
 * - no `Content-Type`, or `application/octet-stream`, on `/v2/...`, read as JSON: tritonclient's HTTP
 *   client sends no header and its asyncio client (aiohttp) sends octet-stream; Triton ignores the
 *   header. A body announced as binary tensor data (`Inference-Header-Content-Length`) is refused
 *   with a clear message.
 * Everything else keeps Fastify's 415.
 */
export function installProtocolBodyParsers(fastify: FastifyInstance): void {
  fastify.addContentTypeParser('text/csv', { parseAs: 'string' }, (request, body, done) => {
    if (INVOCATIONS_URL.test(request.url)) done(null, body);
    else done(unsupportedMediaType(), undefined);
  });
  // The catch-all also receives requests that have no Content-Type header.
  fastify.addContentTypeParser('*', { parseAs: 'string' }, (request, body, done) => {
    const contentType = request.headers['content-type'];
    const jsonForV2 = contentType === undefined || contentType.startsWith('application/octet-stream');
    if (!jsonForV2 || !OPEN_INFERENCE_URL.test(request.url)) {
      done(unsupportedMediaType(), undefined);
      return;
    }
    if (request.headers['inference-header-content-length'] !== undefined) {
      done(
        badRequest('Binary tensor data is not supported: send JSON only (tritonclient: binary_data=False)'),
        undefined,
      );
      return;
    }
    try {
      done(null, JSON.parse(body as string));
    } catch {
      done(badRequest('Body is not valid JSON'), undefined);
    }
  });
}

function unsupportedMediaType(): Error {
  return Object.assign(new Error('Unsupported Media Type'), {
    statusCode: 415,
    code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE',
  });
}

/** An `AppError` keeps its message through the global filter (and then `installProtocolErrorBodies`). */
function badRequest(message: string): Error {
  return new AppError('INVALID_INPUT', message);
}

/**
 * Errors raised before a protocol handler runs (malformed JSON, body over the limit, unsupported
 * content type, unknown route, refused while draining) leave as Vigil's envelope; clients of these
 * protocols expect their own error body, so it is rewritten on the way out. Successful responses
 * and other routes pay one status comparison.
 */
export function installProtocolErrorBodies(fastify: FastifyInstance): void {
  fastify.addHook('onSend', (request, reply, payload, done) => {
    if (reply.statusCode < 400 || typeof payload !== 'string') {
      done(null, payload);
      return;
    }
    const url = request.url;
    const openInference = OPEN_INFERENCE_URL.test(url);
    if (!openInference && !MLFLOW_URL.test(url)) {
      done(null, payload);
      return;
    }
    const envelope = parseEnvelope(payload);
    if (envelope === undefined) {
      done(null, payload);
      return;
    }
    let body: object;
    if (openInference) body = openInferenceError(envelope);
    else if (reply.statusCode === 415) {
      body = {
        error_code: 'BAD_REQUEST',
        message: unsupportedContentTypeMessage(request.headers['content-type']),
      };
    } else body = mlflowError(envelope, reply.statusCode, true);
    void reply.header('content-type', 'application/json; charset=utf-8');
    done(null, JSON.stringify(body));
  });
}
