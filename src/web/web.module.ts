import { Module, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { AppLogger } from '../telemetry/logger';
import { serveWebApp } from './web-static';
import { WebController } from './web.controller';

/**
 * The browser app (`web/`, built into `web/dist` by `npm run build:web`) at `/`, and `GET /v1/ui/config`.
 * Without a build the API runs as before: a warning, no app.
 */
@Module({ controllers: [WebController] })
export class WebModule implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly logger: AppLogger,
  ) {}

  onModuleInit(): void {
    // Absent in a context without HTTP (the CLI).
    const fastify = this.adapterHost.httpAdapter?.getInstance<FastifyInstance>();
    if (fastify === undefined) return;
    const result = serveWebApp(fastify);
    if (!result.served)
      this.logger.warn(`Web app not served: ${result.reason}`, { 'event.action': 'web-app' });
  }
}
