/** @jest-environment ./test/support/onnxruntime.environment.js */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from '../../src/app';
import { makeConfig } from '../../src/config/config';
import { MonitoringService } from '../../src/monitoring/monitoring.service';
import { RetrainService } from '../../src/monitoring/retrain.service';
import { runSimulation } from '../../src/monitoring/traffic-simulator';
import { CREDIT } from '../support/instances';

const MODELS_DIR = join(__dirname, '../../models');
const ADMIN_TOKEN = 'simulation-admin-token-0123456789';

async function until<T>(probe: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not reached within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

interface Job {
  status: string;
  trigger: string;
  parentVersion: number;
  newVersion: number | null;
  details: { challenge?: { passed: boolean } } | null;
  error: string | null;
}

/**
 * The drift simulation, small: credit traffic with incomes 30 % lower and feedback for half of it,
 * through real HTTP. Drift is detected on annual_income only, the drift trigger retrains in a child
 * process, the new version is promoted and the server swaps to it.
 */
describe('monitoring (e2e): drift simulation → detection → retraining → promotion → hot swap', () => {
  let app: NestFastifyApplication;
  let dataDir: string;
  let server: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'vigil-simulation-'));
    app = await createApp(
      makeConfig({
        DATA_DIR: dataDir,
        MODELS_DIR,
        ADMIN_TOKEN,
        ACCESS_LOG: false,
        PREDICTION_LOG: false,
        LOG_LEVEL: 'error',
        // The test runs the scheduled round itself, once the traffic is in.
        EVALUATION_INTERVAL_MS: 0,
        MONITOR_WINDOW_SIZE: 5000,
        // One drifted feature out of eleven is enough to call it dataset drift here.
        DRIFT_SHARE_THRESHOLD: 0.05,
        RETRAIN_ON_DRIFT: true,
        REGISTRY_POLL_INTERVAL_MS: 200,
      }),
    );
    await app.listen(0, '127.0.0.1');
    const address = app.getHttpServer().address() as { port: number };
    server = `http://127.0.0.1:${address.port}`;
    await until(
      async () => ((await fetch(`${server}/health/ready`)).ok ? true : undefined),
      20_000,
      'server ready',
    );
  });

  afterAll(async () => {
    await app?.get(RetrainService).idle();
    await app?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('refuses a manual retrain without the admin token', async () => {
    const response = await fetch(`${server}/v1/models/credit/retrain`, { method: 'POST' });
    expect(response.status).toBe(401);
  });

  it('detects the shifted feature only, retrains, promotes and serves the new version', async () => {
    const summary = await runSimulation({
      server,
      model: 'credit',
      requests: 800,
      shift: { income: -0.3 },
      feedbackRate: 0.5,
      concurrency: 4,
      seed: 3,
      batchSize: 1,
      feedbackBatch: 100,
    });
    expect(summary).toMatchObject({ requests: 800, predictions: 800, failedRequests: 0, failedFeedback: 0 });
    expect(summary.feedbackSent).toBeGreaterThan(300);

    await app.get(MonitoringService).runScheduled();

    const report = (await (
      await fetch(`${server}/v1/models/credit/report?format=json&version=1`)
    ).json()) as {
      evaluation: { drift: { features: { feature: string; drifted: boolean; method: string }[] } };
    };
    const drifted = report.evaluation.drift.features
      .filter((feature) => feature.drifted)
      .map((feature) => feature.feature);
    expect(drifted).toEqual(['annual_income']);

    const job = await until(
      async () => {
        const status = (await (await fetch(`${server}/v1/models/credit/retrain`)).json()) as { jobs: Job[] };
        const last = status.jobs[0];
        return last && last.status !== 'running' ? last : undefined;
      },
      150_000,
      'retraining finished',
    );
    expect(job).toMatchObject({
      trigger: 'drift',
      status: 'promoted',
      parentVersion: 1,
      newVersion: 2,
      error: null,
    });
    expect(job.details?.challenge?.passed).toBe(true);

    const version = (await (await fetch(`${server}/v1/models/credit/versions/2`)).json()) as {
      stage: string;
      parentVersion: number;
    };
    expect(version).toMatchObject({ stage: 'Production', parentVersion: 1 });

    await until(
      async () => {
        const response = await fetch(`${server}/v1/models/credit/predict`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            instances: [CREDIT],
          }),
        });
        return ((await response.json()) as { version: number }).version === 2 ? true : undefined;
      },
      20_000,
      'version 2 served',
    );

    const metrics = await (await fetch(`${server}/metrics`)).text();
    expect(metrics).toMatch(/vigil_retrains_total\{model="credit",trigger="drift",outcome="promoted"\} 1/);
    expect(metrics).toMatch(
      /vigil_feature_drift_detected\{model="credit",version="1",feature="annual_income"\} 1/,
    );
  }, 200_000);
});
