import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from '../../src/app';
import { makeConfig } from '../../src/config/config';
import {
  makeMetrics,
  makeOnnxModel,
  makeSignature,
  writeModelFolder,
} from '../integration/registry-fixtures';

const TOKEN = 'e2e-admin-token-0123456789';
const AUTH = { authorization: `Bearer ${TOKEN}`, 'x-actor': 'alice' };

interface Upload {
  model?: Buffer;
  signature?: unknown;
  metrics?: unknown;
  fields?: Record<string, string>;
}

/** A real multipart body (what curl -F sends), built with the platform's FormData. */
async function multipart(upload: Upload): Promise<{ payload: Buffer; headers: Record<string, string> }> {
  const form = new FormData();
  if (upload.model) form.append('model', new Blob([upload.model]), 'model.onnx');
  if (upload.signature !== undefined)
    form.append('signature', new Blob([JSON.stringify(upload.signature)]), 'signature.json');
  if (upload.metrics !== undefined)
    form.append('metrics', new Blob([JSON.stringify(upload.metrics)]), 'metrics.json');
  for (const [key, value] of Object.entries(upload.fields ?? {})) form.append(key, value);
  const encoded = new Response(form);
  return {
    payload: Buffer.from(await encoded.arrayBuffer()),
    headers: { 'content-type': encoded.headers.get('content-type') ?? '' },
  };
}

describe('registry API (e2e)', () => {
  let app: NestFastifyApplication;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'vigil-registry-e2e-'));
    writeModelFolder(join(dataDir, 'models'), 'tiny', 0.8);
    app = await createApp(
      makeConfig({
        DATA_DIR: dataDir,
        MODELS_DIR: join(dataDir, 'models'),
        BOOTSTRAP_MODELS: true,
        ADMIN_TOKEN: TOKEN,
        MAX_UPLOAD_BYTES: 4096,
        PROMOTION_TOLERANCE: 0.01,
        LOG_LEVEL: 'error',
      }),
    );
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  });
  afterAll(async () => {
    await app.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const upload = async (body: Upload, headers: Record<string, string> = AUTH) => {
    const { payload, headers: contentType } = await multipart(body);
    return app.inject({
      method: 'POST',
      url: '/v1/models/tiny/versions',
      payload,
      headers: { ...headers, ...contentType },
    });
  };
  const valid = (rocAuc: number, seed: number): Upload => ({
    model: makeOnnxModel({ seed }),
    signature: makeSignature({ name: 'tiny' }),
    metrics: makeMetrics(rocAuc),
  });

  it('serves the bootstrapped model as version 1 in Production', async () => {
    const response = await app.inject({ method: 'GET', url: '/v1/models' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual([
      expect.objectContaining({ name: 'tiny', productionVersion: 1, latestVersion: 1, versionCount: 1 }),
    ]);
  });

  it('refuses writes without a token (401) and with a wrong one (403)', async () => {
    const anonymous = await upload(valid(0.9, 2), {});
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json()).toMatchObject({ code: 'UNAUTHENTICATED', requestId: expect.any(String) });
    const wrong = await app.inject({
      method: 'POST',
      url: '/v1/models/tiny/rollback',
      headers: { authorization: 'Bearer not-the-right-token-at-all' },
      payload: {},
    });
    expect(wrong.statusCode).toBe(403);
    expect(wrong.json()).toMatchObject({ code: 'FORBIDDEN' });
  });

  it.each([
    ['a file that is not ONNX', { ...valid(0.9, 2), model: Buffer.from('hello') }, 'not an ONNX model'],
    ['a file over MAX_UPLOAD_BYTES', { ...valid(0.9, 2), model: Buffer.alloc(6000, 7) }, '4096-byte limit'],
    [
      'a signature that does not match the graph',
      { ...valid(0.9, 2), model: makeOnnxModel({ omitProbabilities: true }) },
      'signature output "probabilities" is not a graph output',
    ],
    [
      'signature.json that is not JSON',
      { ...valid(0.9, 2), signature: undefined, fields: { signature: '{' } },
      'not valid JSON',
    ],
    ['no model file', { ...valid(0.9, 2), model: undefined }, '"model" (model.onnx) is required'],
  ])('answers 400 to %s and stores nothing', async (_, body, message) => {
    const response = await upload(body);
    expect(response.statusCode).toBe(400);
    expect(response.json().message).toContain(message);
    const versions = await app.inject({ method: 'GET', url: '/v1/models/tiny/versions' });
    expect(versions.json()).toHaveLength(1);
  });

  it('registers an upload, refuses a worse promotion with the numbers, promotes a better one', async () => {
    const worse = await upload({ ...valid(0.7, 2), fields: { description: 'worse', stage: 'Staging' } });
    expect(worse.statusCode).toBe(201);
    expect(worse.json()).toMatchObject({
      name: 'tiny',
      version: 2,
      stage: 'Staging',
      createdBy: 'admin:alice',
    });

    const refused = await app.inject({
      method: 'POST',
      url: '/v1/models/tiny/versions/2/stage',
      headers: AUTH,
      payload: { stage: 'Production' },
    });
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toMatchObject({
      code: 'PROMOTION_REFUSED',
      details: { metric: 'roc_auc', candidate: 0.7, production: 0.8, productionVersion: 1, tolerance: 0.01 },
    });
    expect(refused.json().message).toContain("roc_auc of v2 is 0.7, worse than Production v1's 0.8 by 0.1");

    const better = await upload(valid(0.85, 3));
    expect(better.json()).toMatchObject({ version: 3, stage: 'None' });
    const promoted = await app.inject({
      method: 'POST',
      url: '/v1/models/tiny/versions/3/stage',
      headers: AUTH,
      payload: { stage: 'Production', reason: 'better roc_auc' },
    });
    expect(promoted.statusCode).toBe(200);
    expect(promoted.json()).toMatchObject({ version: 3, stage: 'Production' });
    const v1 = await app.inject({ method: 'GET', url: '/v1/models/tiny/versions/1' });
    expect(v1.json()).toMatchObject({ stage: 'Archived' });
  });

  it('validates transition bodies', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/v1/models/tiny/versions/3/stage',
      headers: AUTH,
      payload: { stage: 'Live' },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ code: 'INVALID_INPUT' });
  });

  it('rolls back and shows who did what in the audit log', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/v1/models/tiny/rollback',
      headers: AUTH,
      payload: { reason: 'latency regression' },
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ version: 1, stage: 'Production' });
    const audit = await app.inject({ method: 'GET', url: '/v1/models/tiny/audit?limit=2' });
    expect(audit.json()).toEqual([
      expect.objectContaining({
        action: 'rollback',
        actor: 'admin:alice',
        version: 1,
        fromStage: 'Archived',
        toStage: 'Production',
        reason: 'latency regression',
      }),
      expect.objectContaining({
        action: 'rollback',
        version: 3,
        fromStage: 'Production',
        toStage: 'Archived',
      }),
    ]);
    const all = await app.inject({ method: 'GET', url: '/v1/audit?model=tiny' });
    expect(all.json().at(-1)).toMatchObject({ action: 'register', actor: 'bootstrap', version: 1 });
  });

  it('sets an alias, resolves it, and serves the verified artifact', async () => {
    const set = await app.inject({
      method: 'PUT',
      url: '/v1/models/tiny/aliases/champion',
      headers: AUTH,
      payload: { version: 3 },
    });
    expect(set.statusCode).toBe(200);
    const byAlias = await app.inject({ method: 'GET', url: '/v1/models/tiny/versions/champion' });
    expect(byAlias.json()).toMatchObject({ version: 3, aliases: ['champion'] });
    const artifact = await app.inject({ method: 'GET', url: '/v1/models/tiny/versions/champion/artifact' });
    expect(artifact.statusCode).toBe(200);
    expect(createHash('sha256').update(artifact.rawPayload).digest('hex')).toBe(byAlias.json().sha256);
  });

  it('answers unknown models and versions with 404 codes', async () => {
    const model = await app.inject({ method: 'GET', url: '/v1/models/ghost' });
    expect(model.statusCode).toBe(404);
    expect(model.json()).toMatchObject({ code: 'MODEL_NOT_FOUND' });
    const version = await app.inject({ method: 'GET', url: '/v1/models/tiny/versions/42' });
    expect(version.json()).toMatchObject({ code: 'VERSION_NOT_FOUND' });
  });

  it('lists the run bootstrap recorded, with its history, and compares runs', async () => {
    const list = await app.inject({ method: 'GET', url: '/v1/runs' });
    expect(list.statusCode).toBe(200);
    expect(list.json()).toEqual([expect.objectContaining({ experiment: 'tiny', status: 'FINISHED' })]);
    const runId = list.json()[0].runId as string;
    const v1 = await app.inject({ method: 'GET', url: '/v1/models/tiny/versions/1' });
    expect(v1.json().runId).toBe(runId);
    const run = await app.inject({ method: 'GET', url: `/v1/runs/${runId}` });
    expect(run.json().history.train_loss).toEqual([
      expect.objectContaining({ step: 1, value: 0.6 }),
      expect.objectContaining({ step: 2, value: 0.4 }),
    ]);
    const sorted = await app.inject({ method: 'GET', url: '/v1/runs/compare?metric=roc_auc' });
    expect(sorted.json().map((entry: { runId: string }) => entry.runId)).toEqual([runId]);
    const compare = await app.inject({ method: 'GET', url: '/v1/runs/compare' });
    expect(compare.statusCode).toBe(400);
    expect(compare.json().message).toContain('metric is required');
  });

  it('documents the registry routes in Swagger, with the bearer scheme on writes', async () => {
    const response = await app.inject({ method: 'GET', url: '/docs-json' });
    expect(response.statusCode).toBe(200);
    const paths = response.json().paths as Record<string, Record<string, { security?: unknown[] }>>;
    for (const path of [
      '/v1/models',
      '/v1/models/{name}/versions',
      '/v1/models/{name}/versions/{version}/stage',
      '/v1/models/{name}/rollback',
      '/v1/audit',
      '/v1/runs/compare',
    ])
      expect(paths).toHaveProperty([path]);
    expect(paths['/v1/models/{name}/rollback']?.post?.security).toEqual([{ bearer: [] }]);
  });
});
