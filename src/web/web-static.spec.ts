import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { serveWebApp, WEB_DIST_DIR } from './web-static';

describe('serveWebApp', () => {
  let root: string;
  let fastify: FastifyInstance;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'vigil-web-static-'));
    fastify = Fastify();
  });
  afterEach(async () => {
    await fastify.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('points at web/dist of the repository', () => {
    expect(WEB_DIST_DIR).toBe(join(__dirname, '..', '..', 'web', 'dist'));
  });

  it('skips, saying why, when the app is not built', async () => {
    const result = serveWebApp(fastify, join(root, 'missing'));
    expect(result).toEqual({ served: false, reason: expect.stringContaining('npm run build:web') });
    await fastify.ready();
    expect((await fastify.inject({ method: 'GET', url: '/' })).statusCode).toBe(404);
  });

  it('serves index.html at / and the files by exact path only, revalidated every time', async () => {
    writeFileSync(join(root, 'index.html'), '<!doctype html><title>Vigil</title>');
    writeFileSync(join(root, 'styles.css'), 'body{}');
    fastify.get('/v1/models', async () => []);
    expect(serveWebApp(fastify, root)).toEqual({ served: true, root });
    await fastify.ready();

    const index = await fastify.inject({ method: 'GET', url: '/' });
    expect(index.statusCode).toBe(200);
    expect(index.headers['content-type']).toMatch(/text\/html/);
    expect(index.headers['cache-control']).toBe('no-cache');
    expect(index.body).toContain('<title>Vigil</title>');
    const css = await fastify.inject({ method: 'GET', url: '/styles.css' });
    expect(css.headers['content-type']).toMatch(/text\/css/);
    // No wildcard route: other paths keep the application's own 404 and routes.
    expect((await fastify.inject({ method: 'GET', url: '/nothing-here' })).statusCode).toBe(404);
    expect((await fastify.inject({ method: 'GET', url: '/../package.json' })).statusCode).toBe(404);
    expect((await fastify.inject({ method: 'GET', url: '/v1/models' })).json()).toEqual([]);
  });
});
