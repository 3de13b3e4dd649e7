import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

/** `web/dist` of the repository: the same path from `src/web/` (tests) and `dist/web/` (built). */
export const WEB_DIST_DIR = resolve(__dirname, '..', '..', 'web', 'dist');

export type ServeWebResult = { served: true; root: string } | { served: false; reason: string };

/**
 * Serves the built web app at `/` (index.html) and its files by exact path. `wildcard: false` registers
 * one route per file found now, so every other URL keeps the API's own 404 and error envelope.
 */
export function serveWebApp(fastify: FastifyInstance, root: string = WEB_DIST_DIR): ServeWebResult {
  if (!existsSync(join(root, 'index.html')))
    return { served: false, reason: `${root}/index.html is missing (run npm run build:web)` };
  void fastify.register(fastifyStatic, {
    root,
    prefix: '/',
    wildcard: false,
    index: ['index.html'],
    // Small, unhashed files: revalidate with the ETag every time rather than serve a stale app.
    cacheControl: false,
    setHeaders: (reply) => void reply.header('cache-control', 'no-cache'),
  });
  return { served: true, root };
}
