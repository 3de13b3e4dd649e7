/** @jest-environment ./test/support/onnxruntime.environment.js */
/**
 * Bad model versions: an upload that is not a loadable ONNX model or does not match its signature is
 * refused before anything is stored; a stored artifact corrupted on disk (hash mismatch) is refused at
 * load time. In every case the old version keeps serving.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import {
  ADMIN_TOKEN,
  bootApp,
  CLI,
  metricSum,
  MODELS_DIR,
  predictIris,
  ROOT,
  tempDir,
  until,
} from '../reliability/harness';

describe('corrupted or unloadable new versions (in-process over HTTP)', () => {
  let app: NestFastifyApplication;
  let base: string;
  let dataDir: string;
  let trainedDir: string;

  beforeAll(async () => {
    trainedDir = tempDir('fault-artifact-model');
    // A second, byte-different iris model (another seed): its own artifact file.
    const trained = spawnSync(
      process.execPath,
      [
        CLI,
        'train',
        '--dataset',
        'iris',
        '--algorithm',
        'logreg',
        '--seed',
        '7',
        '--out',
        trainedDir,
        '--no-progress',
      ],
      { cwd: ROOT, encoding: 'utf8' },
    );
    if (trained.status !== 0)
      throw new Error(`training failed (run \`npm run build\` first): ${trained.stderr}`);
    dataDir = tempDir('fault-artifact');
    app = await bootApp({ DATA_DIR: dataDir, REGISTRY_POLL_INTERVAL_MS: 200 });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.getHttpServer().address();
    base = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(trainedDir, { recursive: true, force: true });
  });

  const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };

  function upload(model: Buffer, signature: string, stage = 'Staging'): Promise<Response> {
    const form = new FormData();
    form.append('model', new Blob([model]), 'model.onnx');
    form.append('signature', new Blob([signature]), 'signature.json');
    form.append('metrics', new Blob([readFileSync(join(trainedDir, 'metrics.json'))]), 'metrics.json');
    form.append('stage', stage);
    return fetch(`${base}/v1/models/iris/versions`, { method: 'POST', headers: auth, body: form });
  }

  async function servedVersion(): Promise<number> {
    const response = await predictIris(base);
    expect(response.status).toBe(200);
    return ((await response.json()) as { version: number }).version;
  }

  const versionCount = async (): Promise<number> =>
    ((await (await fetch(`${base}/v1/models/iris/versions`)).json()) as unknown[]).length;

  it('refuses bytes that are not ONNX, and a model that does not match its signature; nothing stored, v1 serves', async () => {
    const signature = readFileSync(join(trainedDir, 'signature.json'), 'utf8');
    const artifacts = (): string[] => readdirSync(join(dataDir, 'artifacts')).sort();
    const artifactsBefore = artifacts();
    const garbage = await upload(Buffer.from('this is not an onnx model'), signature);
    expect(garbage.status).toBe(400);
    expect(await garbage.json()).toMatchObject({ code: 'INVALID_ARTIFACT' });
    const truncated = await upload(readFileSync(join(trainedDir, 'model.onnx')).subarray(0, 100), signature);
    expect(truncated.status).toBe(400);
    const mismatched = await upload(readFileSync(join(MODELS_DIR, 'credit/model.onnx')), signature);
    expect(mismatched.status).toBe(400);
    expect(await mismatched.json()).toMatchObject({ code: 'INVALID_ARTIFACT' });
    expect(await versionCount()).toBe(1);
    expect(artifacts()).toEqual(artifactsBefore);
    expect(await servedVersion()).toBe(1);
  });

  it('a stored artifact corrupted on disk is refused at load (hash mismatch): v1 keeps serving, the failure is counted', async () => {
    const registered = await upload(
      readFileSync(join(trainedDir, 'model.onnx')),
      readFileSync(join(trainedDir, 'signature.json'), 'utf8'),
    );
    expect(registered.status).toBe(201);
    const version = (await registered.json()) as { version: number; sha256: string };
    // Flip bytes in the middle of the stored file: same size, different hash.
    const file = join(dataDir, 'artifacts', version.sha256);
    const bytes = readFileSync(file);
    bytes.fill(0x41, bytes.length >> 1, (bytes.length >> 1) + 16);
    writeFileSync(file, bytes);

    const download = await fetch(`${base}/v1/models/iris/versions/${version.version}/artifact`);
    expect(download.status).toBeGreaterThanOrEqual(400);
    expect(download.status).toBeLessThan(600);

    const promoted = await fetch(`${base}/v1/models/iris/versions/${version.version}/stage`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ stage: 'Production', force: true, reason: 'fault test: corrupted artifact' }),
    });
    // Either the registry refuses it, or the pool refuses to load it: never served.
    if (promoted.status === 200) {
      await until(
        async () =>
          metricSum(await (await fetch(`${base}/metrics`)).text(), 'vigil_model_load_failures_total') > 0,
        10_000,
        'load failure counted',
      );
    } else {
      expect(promoted.status).toBeLessThan(500);
    }
    const versions: number[] = [];
    for (let index = 0; index < 50; index += 1) versions.push(await servedVersion());
    expect(new Set(versions)).toEqual(new Set([1]));
    expect((await fetch(`${base}/health/ready`)).status).toBe(200);
  });
});
