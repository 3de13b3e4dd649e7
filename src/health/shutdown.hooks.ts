import type { INestApplication } from '@nestjs/common';
import type { FastifyInstance } from 'fastify';
import { ShutdownService } from './shutdown.service';

/** Still answered while draining: probes and the final scrape. */
const EXEMPT = /^\/(health\/|metrics)/;

/** While draining, refuse new requests with 503 SHUTTING_DOWN (one boolean test per request otherwise). */
export function installDrainGuard(fastify: FastifyInstance, shutdown: ShutdownService): void {
  fastify.addHook('onRequest', (request, reply, done) => {
    if (!shutdown.draining || EXEMPT.test(request.url)) {
      done();
      return;
    }
    void reply
      .code(503)
      .header('retry-after', '1')
      .header('connection', 'close')
      .send({ code: 'SHUTTING_DOWN', message: 'The service is shutting down', requestId: request.id });
  });
}

/** SIGTERM/SIGINT → drain, flush, close, exit 0 (replaces Nest's enableShutdownHooks, which re-raises the signal). */
export function installShutdownSignals(
  app: INestApplication,
  exit: (code: number) => void = (code) => process.exit(code),
): void {
  const shutdown = app.get(ShutdownService);
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      void shutdown.shutdown(app, signal).then(exit, () => exit(1));
    });
  }
}
