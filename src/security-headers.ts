import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import helmet from 'helmet';

/** The CSP lets Swagger UI's own inline script and styles run at /docs; the API answers JSON only. */
const HELMET_OPTIONS = {
  contentSecurityPolicy: {
    directives: {
      defaultSrc: [`'self'`],
      styleSrc: [`'self'`, `'unsafe-inline'`],
      imgSrc: [`'self'`, 'data:', 'validator.swagger.io'],
      scriptSrc: [`'self'`, `'unsafe-inline'`],
      // helmet's default would make browsers fetch every script and style of the web app (and of
      // /docs) over https when the page is served over plain http under a host name: nothing loads.
      // TLS, where there is some, is the proxy's business (HSTS still applies over https).
      upgradeInsecureRequests: null,
    },
  },
};

/** helmet's headers, computed once: they do not depend on the request. */
export function securityHeaders(): Record<string, string> {
  const headers: Record<string, string> = {};
  const response = {
    setHeader: (name: string, value: string | number | readonly string[]) => {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
    },
    removeHeader: (name: string) => {
      delete headers[name.toLowerCase()];
    },
  };
  helmet(HELMET_OPTIONS)({} as IncomingMessage, response as unknown as ServerResponse, () => undefined);
  return headers;
}

/**
 * What JSON API answers carry, after OWASP's REST Security Cheat Sheet: the browser-page headers of
 * helmet (a CSP for scripts and styles, COOP, CORP, …) mean nothing to a JSON client, and twelve
 * headers instead of six cost ~2 µs per prediction to validate and write.
 */
export function apiSecurityHeaders(page: Record<string, string> = securityHeaders()): Record<string, string> {
  return {
    'cache-control': 'no-store',
    'content-security-policy': "frame-ancestors 'none'",
    'strict-transport-security': page['strict-transport-security']!,
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
  };
}

/** URLs that answer JSON only (the web app, Swagger UI and anything else get the page headers). */
const API_URL = /^\/(?:predict(?:[/?]|$)|v[12]\/|invocations|metrics|health|ping|version)/;

/**
 * Security headers on every response through one callback hook. `@fastify/helmet` rebuilds helmet
 * (re-parsing the CSP) on every request through two async hooks: ~6.6 µs vs ~0.4 µs per request
 * (docs/performance.md, bench/micro/helmet.mjs), for the same headers.
 */
export function installSecurityHeaders(fastify: FastifyInstance): void {
  const pageHeaders = securityHeaders();
  const apiHeaders = apiSecurityHeaders(pageHeaders);
  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.headers(API_URL.test(request.url) ? apiHeaders : pageHeaders);
    done();
  });
}
