/** @jest-environment ./test/support/onnxruntime.environment.js */
/** Regression tests for bugs the fuzzing found (reliability-fuzz.e2e-spec.ts), one per bug. */
import { rmSync } from 'node:fs';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ADMIN_TOKEN, bootApp, tempDir } from '../reliability/harness';

describe('bugs found by fuzzing (e2e)', () => {
  let app: NestFastifyApplication;
  let dataDir: string;
  const admin = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };

  beforeAll(async () => {
    dataDir = tempDir('regressions');
    app = await bootApp({ DATA_DIR: dataDir });
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('a registry write with a body nested 5,000 levels deep answers 400, not 500 (class-transformer stack overflow)', async () => {
    const deepArray = '['.repeat(5000) + ']'.repeat(5000);
    const deepObject = '{"a":'.repeat(3000) + '1' + '}'.repeat(3000);
    for (const [method, url, payload] of [
      ['PUT', '/v1/models/iris/aliases/champion', deepArray],
      ['PATCH', '/v1/models/iris', `{"tags":${deepArray}}`],
      ['POST', '/v1/models/iris/versions/1/stage', deepObject],
    ] as const) {
      const response = await app.inject({ method, url, payload, headers: admin });
      expect({ url, status: response.statusCode }).toEqual({ url, status: 400 });
      expect(response.json()).toMatchObject({
        code: 'INVALID_INPUT',
        message: 'The body is nested deeper than 32 levels',
      });
    }
    // A normal body on the same pipe still passes.
    const ok = await app.inject({
      method: 'PATCH',
      url: '/v1/models/iris',
      payload: JSON.stringify({ description: 'still works' }),
      headers: admin,
    });
    expect(ok.statusCode).toBe(200);
  });

  it('an error on a route that declares another content type (artifact download) answers the JSON envelope, not 500', async () => {
    for (const url of [
      '/v1/models/iris/versions/abc/artifact',
      '/v1/models/iris/versions/99/artifact',
      '/v1/models/nosuch/versions/1/artifact',
    ]) {
      const response = await app.inject({ method: 'GET', url });
      expect({ url, status: response.statusCode }).toEqual({ url, status: 404 });
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      expect(response.json()).toMatchObject({ code: expect.stringMatching(/NOT_FOUND$/) });
    }
    const artifact = await app.inject({ method: 'GET', url: '/v1/models/iris/versions/1/artifact' });
    expect(artifact.statusCode).toBe(200);
    expect(artifact.headers['content-type']).toBe('application/octet-stream');
  });

  it("router errors (bad percent-encoding, a path segment over 200 characters) answer the envelope without echoing the URL, not Fastify's default body", async () => {
    const long = 'n'.repeat(300);
    for (const [url, status] of [
      ['/v1/models/%C0%AE/predict', 400],
      ['/v1/models/%/versions', 400],
      [`/v1/models/${long}/predict`, 414],
    ] as const) {
      const response = await app.inject({ method: 'POST', url, payload: '{}', headers: admin });
      expect({ url, status: response.statusCode }).toEqual({ url, status });
      expect(response.json()).toEqual({
        code: 'INVALID_INPUT',
        message: expect.any(String),
        requestId: expect.any(String),
      });
      expect(response.body).not.toContain(long);
      expect(response.body).not.toContain('FST_ERR');
    }
  });

  it('a repeated query parameter answers like a single one, not 500 (GET /v1/audit?model=a&model=b)', async () => {
    for (const url of [
      '/v1/audit?model=(Jh_p%3E&model=p2cjj%7D8%5E',
      '/v1/audit?model=iris&model=credit&limit=5&limit=x',
      '/v1/runs?experiment=iris&experiment=credit',
      '/v1/models/iris/versions?stage=Production&stage=None',
    ]) {
      const response = await app.inject({ method: 'GET', url });
      expect({ url, status: response.statusCode < 500 }).toEqual({ url, status: true });
    }
    const audit = await app.inject({ method: 'GET', url: '/v1/audit?model=iris&model=credit' });
    expect(audit.statusCode).toBe(200);
    expect(audit.json().every((entry: { model: string }) => entry.model === 'iris')).toBe(true);
  });
});
