import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sendError } from '../common/http-error.filter';
import { traceContextOf } from '../common/request-context';
import type { AppLogger } from '../telemetry/logger';
import type { PredictAnswer } from './predict-answer';
import type { PredictionService } from './prediction.service';

interface PredictionRoutesOptions {
  predictions: PredictionService;
  defaultModel: string;
  logger: AppLogger;
}

/** What Fastify sends with an object's JSON: the answer leaves as text written by `PredictAnswer`. */
const JSON_TYPE = 'application/json; charset=utf-8';

type ModelRequest = FastifyRequest<{ Params: { name: string } }>;
type VersionRequest = FastifyRequest<{ Params: { name: string; version: string } }>;

/**
 * The three predict routes as plain Fastify handlers, not a Nest controller: Nest's router wraps every
 * call in its execution context (param factories, guards, interceptors, pipes, a few promises), which
 * was 8.5 % of the service's allocation under load for a controller that did nothing but delegate
 * (docs/performance.md). Input checks are the per-model compiled validator's job; errors leave in the
 * same envelope as everywhere else (`sendError`); the OpenAPI description of these routes is
 * generated per model from its signature (`swagger.ts`). Call before `app.init()`.
 */
export function installPredictionRoutes(fastify: FastifyInstance, options: PredictionRoutesOptions): void {
  const { predictions, defaultModel, logger } = options;
  const answer = (request: FastifyRequest, reply: FastifyReply, pending: Promise<PredictAnswer>): void => {
    pending.then(
      (response) => void reply.type(JSON_TYPE).send(response.json()),
      (error: unknown) => sendError(error, request, reply, logger),
    );
  };

  fastify.post('/v1/models/:name/predict', (request: ModelRequest, reply) => {
    answer(
      request,
      reply,
      predictions.predict(
        request.params.name,
        request.body,
        request.id,
        traceContextOf(request),
        request.jsonText,
      ),
    );
  });

  fastify.post('/v1/models/:name/versions/:version/predict', (request: VersionRequest, reply) => {
    answer(
      request,
      reply,
      predictions.predictVersion(
        request.params.name,
        request.params.version,
        request.body,
        request.id,
        traceContextOf(request),
        request.jsonText,
      ),
    );
  });

  fastify.post('/predict', (request, reply) => {
    answer(
      request,
      reply,
      predictions.predictDefault(
        defaultModel,
        request.body,
        request.id,
        traceContextOf(request),
        request.jsonText,
      ),
    );
  });
}
