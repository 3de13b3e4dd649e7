/** @jest-environment ./test/support/onnxruntime.environment.js */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from '../../src/app';
import { makeConfig } from '../../src/config/config';
import { MonitoringService } from '../../src/monitoring/monitoring.service';
import { PredictionRecorder } from '../../src/monitoring/prediction-recorder.service';
import { PredictionStore } from '../../src/monitoring/prediction.store';
import { RegistryService } from '../../src/registry/registry.service';
import { generateCredit } from '../../src/training/datasets/credit.dataset';

const MODELS_DIR = join(__dirname, '../../models');

async function until(condition: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('monitoring (e2e: prediction store, feedback, evaluation, report)', () => {
  let app: NestFastifyApplication;
  let dataDir: string;
  const rows = generateCredit({ rows: 400, seed: 7 }).rows;

  const post = (url: string, payload: unknown) =>
    app.inject({
      method: 'POST',
      url,
      payload: JSON.stringify(payload),
      headers: { 'content-type': 'application/json' },
    });

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'vigil-monitoring-'));
    app = await createApp(
      makeConfig({
        DATA_DIR: dataDir,
        MODELS_DIR,
        ACCESS_LOG: false,
        PREDICTION_LOG: false,
        EVALUATION_INTERVAL_MS: 0,
        MONITOR_WINDOW_SIZE: 1000,
        LOG_LEVEL: 'error',
      }),
    );
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    await until(async () => (await app.inject({ method: 'GET', url: '/health/ready' })).statusCode === 200);
  });

  afterAll(async () => {
    await app?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  let predictionIds: string[] = [];
  let singleRequestId = '';

  it('stores every prediction off the request path', async () => {
    const batch = await post('/v1/models/credit/predict', {
      instances: rows.slice(0, 300).map((row) => row.features),
    });
    expect(batch.statusCode).toBe(200);
    predictionIds = batch
      .json()
      .predictions.map((prediction: { predictionId: string }) => prediction.predictionId);
    const single = await post('/v1/models/credit/predict', { instances: [rows[300]!.features] });
    singleRequestId = single.json().requestId;
    await app.get(PredictionRecorder).flushNow();
    const metrics = await app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/vigil_prediction_store_written_total 301/);
  });

  it('stores the instances as the client sent them (no second serialisation), and reads them back as rows', async () => {
    const instances = rows.slice(301, 304).map((row) => row.features);
    const instancesText = JSON.stringify(instances, null, 2);
    const response = await app.inject({
      method: 'POST',
      url: '/v1/models/credit/predict',
      payload: `{\n  "instances": ${instancesText}\n}\n`,
      headers: { 'content-type': 'application/json; charset=utf-8' },
    });
    expect(response.statusCode).toBe(200);
    await app.get(PredictionRecorder).flushNow();
    const [stored] = await app
      .get(PredictionStore)
      .database.query<{ inputs: string }>('SELECT inputs FROM prediction_batches WHERE request_id = $1', [
        response.json().requestId,
      ]);
    expect(stored?.inputs).toBe(instancesText);
    expect(JSON.parse(stored!.inputs)).toEqual(instances);
  });

  it('accepts feedback by prediction id and by the request id of a one-instance request', async () => {
    const response = await post('/v1/feedback', {
      feedback: [
        ...predictionIds
          .slice(0, 150)
          .map((predictionId, index) => ({ predictionId, label: rows[index]!.label })),
        { requestId: singleRequestId, label: rows[300]!.label },
      ],
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ created: 151, updated: 0, unchanged: 0 });
  });

  it('is idempotent, and reports corrections', async () => {
    const again = await post('/v1/feedback', { predictionId: predictionIds[0], label: rows[0]!.label });
    expect(again.json()).toMatchObject({ created: 0, unchanged: 1 });
    const flipped = rows[1]!.label === '1' ? '0' : '1';
    const corrected = await post('/v1/feedback', { predictionId: predictionIds[1], label: flipped });
    expect(corrected.json()).toMatchObject({ updated: 1, results: [{ status: 'updated', label: flipped }] });
    await post('/v1/feedback', { predictionId: predictionIds[1], label: rows[1]!.label });
  });

  it('answers 404 PREDICTION_NOT_FOUND for an unknown id and 400 for a label outside the classes', async () => {
    const unknown = await post('/v1/feedback', { predictionId: 'no-such-prediction', label: '1' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ code: 'PREDICTION_NOT_FOUND' });
    const badLabel = await post('/v1/feedback', { predictionId: predictionIds[2], label: 'maybe' });
    expect(badLabel.statusCode).toBe(400);
    expect(badLabel.json()).toMatchObject({
      code: 'INVALID_INPUT',
      details: [{ field: 'label', problem: expect.stringContaining('not a class of credit v1') }],
    });
    const ambiguous = await post('/v1/feedback', { requestId: 'x', predictionId: 'y', label: '1' });
    expect(ambiguous.statusCode).toBe(400);
  });

  it('evaluates on schedule: history stored and gauges set', async () => {
    const evaluation = await app.get(MonitoringService).evaluateAndRecord('credit');
    expect(evaluation).not.toBeNull();
    // 301 rows, and the 3 instances sent as formatted text.
    expect(evaluation!.window).toMatchObject({ size: 304, labelled: 151 });
    expect(evaluation!.drift!.features).toHaveLength(11);
    const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(
      /vigil_drift_score\{model="credit",version="1",feature="annual_income",method="wasserstein"\} [\d.e-]+/,
    );
    expect(metrics).toMatch(/vigil_dataset_drift_share_ratio\{model="credit",version="1"\} [\d.]+/);
    expect(metrics).toMatch(/vigil_live_quality\{model="credit",version="1",metric="roc_auc"\} 0\.\d+/);
    expect(metrics).toMatch(/vigil_training_quality\{model="credit",version="1",metric="roc_auc"\} 0\.\d+/);
    expect(metrics).toMatch(/vigil_feedback_total\{model="credit",version="1"\} 153/);
    expect(metrics).toMatch(/vigil_evaluations_total\{model="credit",outcome="ok"\} 1/);
  });

  it("reads a version's reference from the registry once, and again for another version", async () => {
    const monitoring = app.get(MonitoringService);
    const registry = app.get(RegistryService);
    const read = jest.spyOn(registry, 'getReference');
    try {
      const first = await monitoring.evaluate('credit');
      const second = await monitoring.evaluate('credit');
      // Prepared by the evaluation before (or the first here): not read again.
      expect(read.mock.calls.length).toBeLessThanOrEqual(1);
      expect(second.evaluation.drift).toEqual(first.evaluation.drift);
      expect(second.referenceRows).toBeGreaterThan(0);

      const copy = await registry.registerVersion(
        {
          name: 'credit',
          onnx: readFileSync(join(MODELS_DIR, 'credit', 'model.onnx')),
          signature: JSON.parse(readFileSync(join(MODELS_DIR, 'credit', 'signature.json'), 'utf8')),
          metrics: JSON.parse(readFileSync(join(MODELS_DIR, 'credit', 'metrics.json'), 'utf8')),
          reference: JSON.parse(readFileSync(join(MODELS_DIR, 'credit', 'reference.json'), 'utf8')),
        },
        'test',
      );
      read.mockClear();
      await monitoring.evaluate('credit', copy.version);
      await monitoring.evaluate('credit', copy.version);
      expect(read.mock.calls).toEqual([['credit', copy.version]]);
      await monitoring.evaluate('credit');
      expect(read.mock.calls).toEqual([
        ['credit', copy.version],
        ['credit', 1],
      ]);
    } finally {
      read.mockRestore();
    }
  });

  it('serves the report as JSON and as self-contained HTML', async () => {
    const json = await app.inject({ method: 'GET', url: '/v1/models/credit/report?format=json' });
    expect(json.statusCode).toBe(200);
    const report = json.json();
    expect(report).toMatchObject({ model: 'credit', version: 1, stage: 'Production', referenceRows: 12000 });
    expect(report.history).toHaveLength(1);
    expect(report.evaluation.quality.rows).toBe(151);
    // Same traffic distribution as training: no dataset drift.
    expect(report.evaluation.drift.datasetDrift).toBe(false);

    const html = await app.inject({ method: 'GET', url: '/v1/models/credit/report' });
    expect(html.statusCode).toBe(200);
    expect(html.headers['content-type']).toMatch(/text\/html/);
    expect(html.body).toContain('<svg');
    expect(html.body).toContain('annual_income');
    expect(html.body).not.toMatch(/<script|<link|src="http/);

    const missing = await app.inject({ method: 'GET', url: '/v1/models/nope/report' });
    expect(missing.statusCode).toBe(404);
    const badFormat = await app.inject({ method: 'GET', url: '/v1/models/credit/report?format=pdf' });
    expect(badFormat.statusCode).toBe(400);
  });
});
