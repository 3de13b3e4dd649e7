import type { IncomingMessage } from 'node:http';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from './app.module';
import { AppConfig } from './config/config';
import { clientErrorHandler, frameworkErrors, parseQueryString } from './common/http-hardening';
import { installRateLimits } from './common/rate-limit';
import { timeOrderedId } from './common/time-ordered-id';
import { HttpErrorFilter } from './common/http-error.filter';
import { installJsonBodyParser } from './common/json-body';
import { installDrainGuard } from './health/shutdown.hooks';
import { installPredictionRoutes } from './prediction/prediction.routes';
import { PredictionService } from './prediction/prediction.service';
import { ShutdownService } from './health/shutdown.service';
import { installSecurityHeaders } from './security-headers';
import { setupSwagger } from './swagger';
import { setupTelemetry } from './telemetry/http-telemetry';
import { AppLogger } from './telemetry/logger';

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** Builds the HTTP application (used by `main.ts` and by the e2e tests); does not listen. */
export async function createApp(config?: AppConfig): Promise<NestFastifyApplication> {
  const requestTimeout = config?.REQUEST_TIMEOUT_MS ?? 60_000;
  const adapter = new FastifyAdapter({
    bodyLimit: config?.BODY_LIMIT_BYTES ?? 1_048_576,
    // The caller's x-request-id is kept when it is sane; otherwise one is generated (time-ordered: it is
    // an indexed column of the prediction store).
    genReqId: (request: IncomingMessage) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : timeOrderedId();
    },
    routerOptions: { maxParamLength: 200, querystringParser: parseQueryString },
    // Fastify's default is no limit: a client trickling a body would hold its connection forever.
    requestTimeout,
    // Node enforces requestTimeout only when headersTimeout is not longer, and checks deadlines on
    // connectionsCheckingInterval (default 30 s, far coarser than the timeout).
    http: {
      requestTimeout,
      headersTimeout: Math.min(60_000, requestTimeout),
      connectionsCheckingInterval: 1000,
    },
    // While closing, Fastify would answer 503 with its own body; the drain guard (installDrainGuard)
    // already refuses new work with 503 SHUTTING_DOWN in the error envelope, from the first moment.
    return503OnClosing: false,
    // Router and HTTP-parser errors in the error envelope (Fastify's defaults echo the URL back).
    frameworkErrors,
    clientErrorHandler,
    logger: false,
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), adapter, {
    logger: ['error', 'warn'],
    bufferLogs: false,
  });
  const fastify = app.getHttpAdapter().getInstance();
  // Callback-style hooks: an async hook costs a promise per request.
  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', request.id);
    done();
  });
  installJsonBodyParser(app);
  installDrainGuard(fastify, app.get(ShutdownService));
  setupTelemetry(app);
  installSecurityHeaders(fastify);
  await installRateLimits(app, app.get(AppConfig));
  installPredictionRoutes(fastify, {
    predictions: app.get(PredictionService),
    defaultModel: app.get(AppConfig).DEFAULT_MODEL,
    logger: app.get(AppLogger),
  });
  setupSwagger(app);
  app.useGlobalFilters(new HttpErrorFilter(app.get(AppLogger)));
  // No enableShutdownHooks(): main.ts installs SIGTERM/SIGINT handling that drains first and exits 0
  // (Nest's handler would close at once and re-raise the signal).
  return app;
}
