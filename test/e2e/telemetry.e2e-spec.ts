/** @jest-environment ./test/support/onnxruntime.environment.js */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { createApp } from '../../src/app';
import { makeConfig } from '../../src/config/config';
import { ModelPoolService } from '../../src/inference/model-pool.service';
import { LogPipeline } from '../../src/telemetry/log-pipeline';
import { Metrics } from '../../src/telemetry/metrics';
import { startTracing, type TracingHandle } from '../../src/telemetry/tracing';
import { CREDIT, IRIS } from '../support/instances';

const MODELS_DIR = join(__dirname, '../../models');

/**
 * The real service (createApp, real models) with telemetry on: a predict call yields the span tree
 * HTTP → predict.validate → predict.queue → predict.inference, the catalog metrics, and ECS lines.
 */
describe('telemetry of the real service (e2e)', () => {
  const exporter = new InMemorySpanExporter();
  const written: string[] = [];
  let tracing: TracingHandle;
  let app: NestFastifyApplication;
  let dataDir: string;
  let base: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'vigil-telemetry-'));
    const config = makeConfig({
      DATA_DIR: dataDir,
      MODELS_DIR,
      VIGIL_ENV: 'test',
      OTEL_TRACES_SAMPLER: 'always_on',
      PRIVACY_DROP_FIELDS: 'annual_income',
      PRIVACY_HASH_FIELDS: 'age',
      PRIVACY_HASH_SALT: 'e2e-salt',
      PREDICTION_STORE_ENABLED: false,
      EVALUATION_INTERVAL_MS: 0,
    });
    tracing = startTracing(config, { exporter, simpleProcessor: true });
    // The log pipeline writes to process.stdout: capture it (and keep the test output quiet).
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(
        ...String(chunk)
          .split('\n')
          .filter((line) => line.startsWith('{')),
      );
      return true;
    });
    app = await createApp(config);
    await app.listen({ port: 0, host: '127.0.0.1' });
    base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    await app.get(ModelPoolService).reconcile();
  });

  afterAll(async () => {
    await app?.close();
    await tracing?.shutdown();
    jest.restoreAllMocks();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  const lines = (): Record<string, unknown>[] =>
    written.map((line) => JSON.parse(line) as Record<string, unknown>);

  it('traces a prediction through validation, queue and inference', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const response = await post(
      '/v1/models/credit/predict',
      { instances: [CREDIT] },
      {
        traceparent: `00-${traceId}-00f067aa0ba902b7-01`,
      },
    );
    expect(response.status).toBe(200);
    expect(response.headers.get('x-trace-id')).toBe(traceId);
    await tracing.forceFlush();
    const spans = exporter.getFinishedSpans().filter((span) => span.spanContext().traceId === traceId);
    const byName = new Map<string, ReadableSpan>(spans.map((span) => [span.name, span]));
    const server = byName.get('POST /v1/models/:name/predict');
    expect(server?.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
    expect(server?.attributes).toMatchObject({
      'http.route': '/v1/models/:name/predict',
      'http.response.status_code': 200,
    });
    for (const name of ['predict.validate', 'predict.queue', 'predict.inference']) {
      const span = byName.get(name);
      expect(span?.parentSpanContext?.spanId).toBe(server?.spanContext().spanId);
      expect(span?.attributes).toMatchObject({ 'vigil.model.name': 'credit', 'vigil.model.version': 1 });
    }
    expect(byName.get('predict.inference')?.attributes['vigil.batch.size']).toBeGreaterThanOrEqual(1);
  });

  it('writes the access line and one prediction event per request (arrays per instance), privacy applied', async () => {
    const response = await post(
      '/v1/models/credit/predict',
      { instances: [CREDIT, CREDIT] },
      {
        'x-request-id': 'e2e-credit-2',
      },
    );
    expect(response.status).toBe(200);
    const traceId = response.headers.get('x-trace-id');
    await new Promise((resolve) => setImmediate(resolve));
    app.get(LogPipeline).flush();
    const mine = lines().filter((line) => line['http.request.id'] === 'e2e-credit-2');
    const access = mine.filter((line) => line['log.logger'] === 'vigil.access');
    const events = mine.filter((line) => line['event.action'] === 'prediction');
    expect(access).toHaveLength(1);
    expect(access[0]).toMatchObject({
      'http.route': '/v1/models/:name/predict',
      'http.response.status_code': 200,
      'trace.id': traceId,
    });
    expect(events).toHaveLength(1);
    const event = events[0]!;
    expect(event).toMatchObject({
      'model.name': 'credit',
      'model.version': '1',
      'trace.id': traceId,
      'prediction.count': 2,
    });
    const ids = event['prediction.id'] as string[];
    expect(ids).toHaveLength(2);
    expect(new Set(ids).size).toBe(2);
    expect(event['prediction.label']).toHaveLength(2);
    const scores = event['prediction.score'] as number[];
    expect(scores.map((score) => typeof score)).toEqual(['number', 'number']);
    const probabilities = event['prediction.probabilities'] as number[][];
    expect(probabilities.map((row, index) => row.length === 2 && row.includes(scores[index]!))).toEqual([
      true,
      true,
    ]);
    const inputs = event['prediction.inputs'] as Record<string, unknown>[];
    expect(inputs).toHaveLength(2);
    for (const input of inputs) {
      expect(input).not.toHaveProperty('annual_income');
      expect(input.age).toMatch(/^[0-9a-f]{64}$/);
      expect(input.loan_amount).toBe(10150);
    }
  });

  it('exposes every catalog metric on /metrics, with model labels after traffic', async () => {
    for (let index = 0; index < 5; index += 1) expect((await post('/predict', IRIS)).status).toBe(200);
    expect((await post('/predict', { sepal_length: 'wide' })).status).toBe(400);
    const text = await (await fetch(`${base}/metrics`)).text();
    const declared = (await app.get(Metrics).registry.getMetricsAsJSON()).map((metric) => metric.name);
    for (const name of declared) expect(text).toContain(`# TYPE ${name} `);
    const has = (pattern: RegExp): void => expect(text).toMatch(pattern);
    has(
      /^http_server_request_duration_seconds_count\{method="POST",route="\/predict",status_code="200"\} [1-9]/m,
    );
    has(
      /^http_server_request_duration_seconds_count\{method="POST",route="\/predict",status_code="400"\} 1$/m,
    );
    has(/^vigil_inference_duration_seconds_count\{model="iris",version="1"\} [1-9]/m);
    has(/^vigil_inference_queue_wait_seconds_count\{model="iris",version="1"\} [1-9]/m);
    has(/^vigil_inference_batch_size_rows_count\{model="credit",version="1"\} [1-9]/m);
    has(/^vigil_predictions_total\{model="iris",version="1",label="setosa"\} [1-9]/m);
    has(/^vigil_prediction_score_count\{model="credit",version="1"\} [1-9]/m);
    has(/^vigil_model_info\{model="iris",version="1",stage="Production",sha256="[0-9a-f]{64}"\} 1$/m);
    has(/^vigil_invalid_inputs_total\{model="iris"\} 1$/m);
    has(/^vigil_trace_export_failures_total 0$/m);
    has(/^vigil_log_queue_events 0$/m);
  });
});
