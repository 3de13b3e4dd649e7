import type { Server } from 'node:http';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';

declare module 'fastify' {
  interface FastifyRequest {
    /** The JSON body's text as received (UTF-8 decoded), next to the parsed `body`. */
    jsonText?: string;
  }
}

/**
 * The JSON body parser: Fastify's own (`getDefaultJsonParser`, prototype poisoning refused), created
 * once, that also keeps the text it parsed on `request.jsonText`: the prediction store writes a
 * request's instances as received instead of serialising them again (`instancesJson`). The text is
 * decoded once, as before (the default parser decodes the same buffer). Call before `app.init()`:
 * Nest then leaves `application/json` to this parser.
 */
export function installJsonBodyParser(app: NestFastifyApplication): void {
  const fastify = app.getHttpAdapter().getInstance();
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  app.useBodyParser<Server>(
    'application/json',
    { bodyLimit: fastify.initialConfig.bodyLimit },
    (request, body, done) => {
      const text = body.toString('utf8');
      request.jsonText = text;
      void parseJson(request, text, done);
    },
  );
}
