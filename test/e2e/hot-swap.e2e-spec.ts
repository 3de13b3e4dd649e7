/** @jest-environment ./test/support/onnxruntime.environment.js */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from '../../src/app';
import type { ModelSignature } from '../../src/common/signature';
import { makeConfig } from '../../src/config/config';
import { ModelPoolService } from '../../src/inference/model-pool.service';
import { OnnxModelSession } from '../../src/inference/onnx-session.adapter';
import { RegistryService } from '../../src/registry/registry.service';
import { Metrics } from '../../src/telemetry/metrics';

const IRIS_DIR = join(__dirname, '../../models/iris');
const IRIS = { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 };

async function until(condition: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function irisVersionInput(reason: string) {
  return {
    name: 'iris',
    onnx: readFileSync(join(IRIS_DIR, 'model.onnx')),
    signature: JSON.parse(readFileSync(join(IRIS_DIR, 'signature.json'), 'utf8')) as ModelSignature,
    metrics: JSON.parse(readFileSync(join(IRIS_DIR, 'metrics.json'), 'utf8')) as Record<string, unknown>,
    stage: 'Production' as const,
    reason,
  };
}

describe('hot swap (e2e)', () => {
  let app: NestFastifyApplication;
  let dataDir: string;
  const settings = {
    MODELS_DIR: join(__dirname, '../../models'),
    REGISTRY_POLL_INTERVAL_MS: 200,
    ACCESS_LOG: false,
    PREDICTION_LOG: false,
    PREDICTION_STORE_ENABLED: false,
    EVALUATION_INTERVAL_MS: 0,
  };

  const predict = () =>
    app.inject({
      method: 'POST',
      url: '/v1/models/iris/predict',
      payload: JSON.stringify({ instances: [IRIS] }),
      headers: { 'content-type': 'application/json' },
    });

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'vigil-hot-swap-'));
    app = await createApp(makeConfig({ ...settings, DATA_DIR: dataDir }));
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    await app.get(ModelPoolService).reconcile();
  });

  afterAll(async () => {
    jest.restoreAllMocks();
    await app?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('swaps to a newly promoted version under concurrent load with zero failed requests', async () => {
    const pool = app.get(ModelPoolService);
    const before = pool.getProduction('iris')!;
    const failures: string[] = [];
    const versionsSeen = new Set<number>();
    let answered = 0;
    let stop = false;
    const worker = async () => {
      // Bounded: stops when told, or after 3000 requests whatever happens.
      for (let count = 0; !stop && count < 3000; count++) {
        const response = await predict();
        answered++;
        if (response.statusCode === 200) versionsSeen.add(response.json<{ version: number }>().version);
        else failures.push(`${response.statusCode} ${response.body}`);
      }
    };
    const workers = Array.from({ length: 8 }, worker);
    await until(() => answered >= 200);

    const promoted = await app
      .get(RegistryService)
      .registerVersion(irisVersionInput('hot swap test'), 'test');
    expect(promoted.version).toBe(2);
    await until(() => versionsSeen.has(2));
    const atSwap = answered;
    await until(() => answered >= atSwap + 200);
    stop = true;
    await Promise.all(workers);

    expect(failures).toEqual([]);
    expect([...versionsSeen].sort()).toEqual([1, 2]);
    expect(pool.getProduction('iris')!.version).toBe(2);
    expect(before.isRetired).toBe(true);
    const swaps = await app.get(Metrics).modelSwaps.get();
    // Every served model has the series from its first load (credit at 0), so rate() sees the first swap.
    expect(swaps.values).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ labels: { model: 'iris' }, value: 1 }),
        expect.objectContaining({ labels: { model: 'credit' }, value: 0 }),
      ]),
    );
  });

  it('keeps the old version serving when the new one fails to load, and reports it in readiness', async () => {
    jest.spyOn(OnnxModelSession, 'load').mockRejectedValueOnce(new Error('simulated load failure'));
    const promoted = await app
      .get(RegistryService)
      .registerVersion(irisVersionInput('broken candidate'), 'test');
    expect(promoted.version).toBe(3);
    const pool = app.get(ModelPoolService);
    await until(() => pool.status().models.some((model) => model.state === 'failed'));

    const response = await predict();
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ version: 2 });
    const ready = await app.inject({ method: 'GET', url: '/health/ready' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json().details.models).toMatchObject({
      status: 'degraded',
      models: expect.arrayContaining([
        expect.objectContaining({
          name: 'iris',
          state: 'failed',
          productionVersion: 3,
          servingVersion: 2,
          lastLoadFailure: expect.objectContaining({
            version: 3,
            message: expect.stringContaining('simulated'),
          }),
        }),
      ]),
    });
    const failures = await app.get(Metrics).modelLoadFailures.get();
    expect(failures.values).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ labels: { model: 'iris' }, value: 1 }),
        expect.objectContaining({ labels: { model: 'credit' }, value: 0 }),
      ]),
    );
  });

  it('follows a promotion made by another replica (polling the shared registry)', async () => {
    const other = await createApp(makeConfig({ ...settings, DATA_DIR: dataDir, BOOTSTRAP_MODELS: false }));
    await other.init();
    try {
      await other
        .get(RegistryService)
        .rollback('iris', { actor: 'other-replica', reason: 'back to v2', toVersion: 2 });
    } finally {
      await other.close();
    }
    const pool = app.get(ModelPoolService);
    await until(() => pool.status().models.find((model) => model.name === 'iris')?.productionVersion === 2);
    await until(() => pool.status().models.find((model) => model.name === 'iris')?.state === 'ready');
    const response = await predict();
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ version: 2 });
  });
});
