import rateLimit from '@fastify/rate-limit';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { RouteOptions } from 'fastify';
import type { AppConfig } from '../config/config';
import { AppError } from './errors';

const WINDOW_MS = 60_000;
const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** Mutating registry, runs and monitoring routes (admin, bearer token); predict routes excluded. */
const ADMIN_URL = /^\/v1\/(?:models|runs)(?:\/|$)/;
const PREDICT_URL = /\/predict$/;
const FEEDBACK_URL = '/v1/feedback';

export type RateLimitBucket = 'admin' | 'feedback';

/** Which per-IP budget a route spends, or undefined (predict, reads, probes: never limited). */
export function rateLimitBucket(method: string, url: string): RateLimitBucket | undefined {
  if (READ_METHODS.has(method)) return undefined;
  if (url === FEEDBACK_URL) return 'feedback';
  if (ADMIN_URL.test(url) && !PREDICT_URL.test(url)) return 'admin';
  return undefined;
}

/**
 * Per-IP rate limits on admin (mutating) and feedback endpoints with `@fastify/rate-limit`, attached
 * to those routes only when they are declared: the predict path gets no hook at all. Over the limit:
 * 429 RATE_LIMITED in the error envelope with `Retry-After`. Behind a proxy every client shares the
 * proxy's address: set the limits accordingly (or limit at the proxy). Call before `app.init()`.
 */
export async function installRateLimits(app: NestFastifyApplication, config: AppConfig): Promise<void> {
  const limits: Record<RateLimitBucket, number> = {
    admin: config.RATE_LIMIT_ADMIN_PER_MINUTE,
    feedback: config.RATE_LIMIT_FEEDBACK_PER_MINUTE,
  };
  const fastify = app.getHttpAdapter().getInstance();
  // Runs before the plugin's own onRoute hook (registered below), which reads `config.rateLimit`.
  fastify.addHook('onRoute', (route: RouteOptions) => {
    const methods = [route.method].flat();
    const bucket = methods
      .map((method) => rateLimitBucket(method, route.url))
      .find((found) => found !== undefined);
    if (bucket === undefined || limits[bucket] === 0) return;
    route.config = {
      ...route.config,
      rateLimit: { max: limits[bucket], timeWindow: WINDOW_MS, groupId: bucket },
    };
  });
  await app.register(rateLimit, {
    global: false,
    addHeadersOnExceeding: {
      'x-ratelimit-limit': true,
      'x-ratelimit-remaining': true,
      'x-ratelimit-reset': true,
    },
    errorResponseBuilder: (_request, context) =>
      new AppError(
        'RATE_LIMITED',
        `Too many requests: at most ${context.max} per minute from one address; retry in ${context.after}`,
        undefined,
        Math.max(1, Math.ceil(context.ttl / 1000)),
      ),
  });
}
