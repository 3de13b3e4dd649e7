/** @jest-environment ./test/support/onnxruntime.environment.js */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from '../../src/app';
import type { ModelSignature, NumericFeature } from '../../src/common/signature';
import { makeConfig } from '../../src/config/config';
import { ModelPoolService } from '../../src/inference/model-pool.service';
import { OnnxModelSession } from '../../src/inference/onnx-session.adapter';
import { PredictionEvents, type PredictionRecord } from '../../src/prediction/prediction-events';
import { Metrics } from '../../src/telemetry/metrics';
import { CREDIT, deferred, IRIS } from '../support/instances';

const MODELS_DIR = join(__dirname, '../../models');

const creditSignature = JSON.parse(
  readFileSync(join(MODELS_DIR, 'credit/signature.json'), 'utf8'),
) as ModelSignature;
function range(feature: string): string {
  const spec = creditSignature.features.find((candidate) => candidate.name === feature) as NumericFeature;
  return `${spec.trainingMin}, ${spec.trainingMax}`;
}

/** Polls a condition (bounded): for states reached through the event loop, not for timing. */
async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('prediction (e2e, real iris and credit models)', () => {
  let app: NestFastifyApplication;
  let dataDir: string;
  const loadGate = deferred();
  const records: PredictionRecord[][] = [];

  const post = (url: string, payload: unknown, headers: Record<string, string> = {}) =>
    app.inject({
      method: 'POST',
      url,
      payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
      headers: { 'content-type': 'application/json', ...headers },
    });

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'vigil-prediction-'));
    // Hold model loading until the first test has seen the "not ready" state.
    const load = OnnxModelSession.load.bind(OnnxModelSession);
    jest.spyOn(OnnxModelSession, 'load').mockImplementation(async (...args) => {
      await loadGate.promise;
      return load(...args);
    });
    app = await createApp(
      makeConfig({
        DATA_DIR: dataDir,
        MODELS_DIR,
        MAX_INSTANCES_PER_REQUEST: 50,
        BODY_LIMIT_BYTES: 20_000,
        ACCESS_LOG: false,
        PREDICTION_LOG: false,
        PREDICTION_STORE_ENABLED: false,
        EVALUATION_INTERVAL_MS: 0,
      }),
    );
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    app.get(PredictionEvents).subscribe((batch) => records.push(batch.records()));
  });

  afterAll(async () => {
    jest.restoreAllMocks();
    await app?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers 503 MODEL_NOT_READY and is not ready before the models are loaded, then becomes ready', async () => {
    const early = await post('/predict', IRIS);
    expect(early.statusCode).toBe(503);
    expect(early.json()).toMatchObject({ code: 'MODEL_NOT_READY', requestId: expect.any(String) });
    expect(early.headers['retry-after']).toBe('1');
    const notReady = await app.inject({ method: 'GET', url: '/health/ready' });
    expect(notReady.statusCode).toBe(503);
    expect(notReady.json()).toMatchObject({ status: 'error', error: { models: { status: 'down' } } });

    loadGate.resolve();
    await app.get(ModelPoolService).reconcile();
    const ready = await app.inject({ method: 'GET', url: '/health/ready' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({
      status: 'ok',
      details: {
        lifecycle: { status: 'up' },
        registry: { status: 'up', productionVersions: 2 },
        models: {
          status: 'up',
          models: expect.arrayContaining([
            expect.objectContaining({
              name: 'iris',
              state: 'ready',
              productionVersion: 1,
              servingVersion: 1,
            }),
            expect.objectContaining({
              name: 'credit',
              state: 'ready',
              productionVersion: 1,
              servingVersion: 1,
            }),
          ]),
        },
      },
    });
  });

  it('predicts one flat iris instance on /predict, with request id and security headers', async () => {
    const response = await post('/predict', IRIS, { 'x-request-id': 'req-iris-1' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['x-request-id']).toBe('req-iris-1');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    const body = response.json();
    expect(body).toMatchObject({ model: 'iris', version: 1, requestId: 'req-iris-1' });
    expect(body.predictions).toHaveLength(1);
    const [prediction] = body.predictions;
    expect(prediction.label).toBe('setosa');
    expect(Object.keys(prediction.probabilities)).toEqual(['setosa', 'versicolor', 'virginica']);
    const sum = Object.values<number>(prediction.probabilities).reduce((total, value) => total + value, 0);
    expect(sum).toBeCloseTo(1, 5);
    expect(prediction.score).toBeUndefined();
    expect(prediction.warnings).toBeUndefined();
  });

  it('runs concurrent requests of many rows as one inference call at the default batch size', async () => {
    const calls: number[] = [];
    const run = OnnxModelSession.prototype.run;
    const spy = jest.spyOn(OnnxModelSession.prototype, 'run').mockImplementation(async function (
      this: OnnxModelSession,
      columns,
      rows,
    ) {
      calls.push(rows);
      return run.call(this, columns, rows);
    });
    try {
      const sizes = [50, 50, 50, 50, 1];
      const answers = await Promise.all(
        sizes.map((rows, request) =>
          post('/v1/models/iris/predict', {
            instances: Array.from({ length: rows }, (_, row) => ({
              ...IRIS,
              sepal_length: 4.5 + (request + row) / 100,
            })),
          }),
        ),
      );
      expect(answers.map((answer) => answer.json().predictions.length)).toEqual(sizes);
      // 201 rows in one call: with batches of 32 rows, each 50-row request ran alone (five calls).
      expect(calls).toEqual([201]);
    } finally {
      spy.mockRestore();
    }
  });

  it('predicts a batch in order with a unique id per instance, and emits one record per instance', async () => {
    records.length = 0;
    const instances = [
      IRIS,
      { ...IRIS, petal_length: 4.5, petal_width: 1.5 },
      { ...IRIS, petal_length: 6, petal_width: 2.3 },
    ];
    const response = await post('/v1/models/iris/predict', { instances });
    expect(response.statusCode).toBe(200);
    const { predictions, requestId } = response.json();
    expect(predictions.map((prediction: { label: string }) => prediction.label)).toEqual([
      'setosa',
      'versicolor',
      'virginica',
    ]);
    const ids = predictions.map((prediction: { predictionId: string }) => prediction.predictionId);
    expect(new Set(ids).size).toBe(3);
    expect(records).toHaveLength(1);
    expect(records[0]!.map((record) => record.predictionId)).toEqual(ids);
    expect(records[0]![2]).toMatchObject({
      requestId,
      model: 'iris',
      version: 1,
      label: 'virginica',
      inputs: instances[2],
    });
  });

  it('gives binary models a score and flags values outside the training range (accepted, counted)', async () => {
    const response = await post('/v1/models/credit/predict', {
      instances: [CREDIT, { ...CREDIT, annual_income: 450_000, age: 99 }],
    });
    expect(response.statusCode).toBe(200);
    const [normal, unusual] = response.json().predictions;
    expect(normal.score).toBe(normal.probabilities['1']);
    expect(['0', '1']).toContain(normal.label);
    expect(normal.warnings).toBeUndefined();
    expect(unusual.warnings).toEqual([
      { field: 'age', problem: `outside training range [${range('age')}]` },
      { field: 'annual_income', problem: `outside training range [${range('annual_income')}]` },
    ]);
    const counted = await app.get(Metrics).inputOutOfRange.get();
    expect(counted.values).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          labels: { model: 'credit', version: '1', feature: 'annual_income' },
          value: 1,
        }),
      ]),
    );
  });

  it.each([
    [
      'missing feature',
      { instances: [{ ...CREDIT, age: undefined }] },
      [['instances[0].age', 'is required']],
    ],
    [
      'unknown feature',
      { instances: [{ ...CREDIT, colour: 'red' }] },
      [['instances[0].colour', 'is not a feature of this model']],
    ],
    [
      'text for a number',
      { instances: [{ ...CREDIT, age: 'forty' }] },
      [['instances[0].age', 'must be a number']],
    ],
    [
      'number for a category',
      { instances: [{ ...CREDIT, housing: 3 }] },
      [['instances[0].housing', 'must be a string; must be one of: own, mortgage, rent, family']],
    ],
    [
      'null',
      { instances: [{ ...CREDIT, debt_ratio: null }] },
      [['instances[0].debt_ratio', 'must not be null']],
    ],
    [
      'negative income',
      { instances: [{ ...CREDIT, annual_income: -1 }] },
      [['instances[0].annual_income', 'must be >= 0']],
    ],
    [
      'age under the physical bound',
      { instances: [{ ...CREDIT, age: 17 }] },
      [['instances[0].age', 'must be >= 18']],
    ],
    [
      'non-integer count',
      { instances: [{ ...CREDIT, late_payments: 1.5 }] },
      [['instances[0].late_payments', 'must be an integer']],
    ],
    [
      'unknown category',
      { instances: [{ ...CREDIT, housing: 'boat' }] },
      [['instances[0].housing', 'must be one of: own, mortgage, rent, family']],
    ],
    [
      'several bad fields in several rows',
      { instances: [CREDIT, { ...CREDIT, age: null, loan_amount: 'x' }] },
      [
        ['instances[1].age', 'must not be null'],
        ['instances[1].loan_amount', 'must be a number'],
      ],
    ],
    ['no instances', {}, [['instances', 'is required']]],
    ['empty instances', { instances: [] }, [['instances', 'must not be empty']]],
  ])('rejects %s with 400 INVALID_INPUT naming the fields', async (_case, body, problems) => {
    const response = await post('/v1/models/credit/predict', body);
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({
      code: 'INVALID_INPUT',
      message: expect.any(String),
      requestId: expect.any(String),
      details: problems.map(([field, problem]) => ({ field, problem })),
    });
  });

  it('rejects Infinity (a number too large for a double) and NaN-like text', async () => {
    const infinite = await post(
      '/predict',
      '{"sepal_length":1e400,"sepal_width":3.5,"petal_length":1.4,"petal_width":"NaN"}',
    );
    expect(infinite.statusCode).toBe(400);
    expect(infinite.json().details).toEqual([
      { field: 'sepal_length', problem: 'must be a finite number' },
      { field: 'petal_width', problem: 'must be a number' },
    ]);
  });

  it.each([
    ['malformed JSON', '{"instances": [', 'application/json', 400, 'INVALID_INPUT'],
    ['an empty JSON body', '', 'application/json', 400, 'INVALID_INPUT'],
    ['a JSON array', '[1,2]', 'application/json', 400, 'INVALID_INPUT'],
    ['an unsupported content type', '<x/>', 'application/xml', 415, 'UNSUPPORTED_MEDIA_TYPE'],
  ])('answers %s with the error envelope', async (_case, payload, type, status, code) => {
    const response = await post('/v1/models/iris/predict', payload, { 'content-type': type });
    expect(response.statusCode).toBe(status);
    expect(response.json()).toMatchObject({ code, requestId: expect.any(String) });
  });

  it('answers 413 for too many instances and for a body over the size limit', async () => {
    const many = await post('/v1/models/iris/predict', { instances: Array.from({ length: 51 }, () => IRIS) });
    expect(many.statusCode).toBe(413);
    expect(many.json()).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', message: expect.stringContaining('50') });
    const big = await post('/v1/models/iris/predict', {
      instances: [{ ...IRIS, padding: 'x'.repeat(30_000) }],
    });
    expect(big.statusCode).toBe(413);
    expect(big.json()).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', requestId: expect.any(String) });
  });

  it('answers 404 for an unknown model or version, 400 for a malformed version', async () => {
    const model = await post('/v1/models/nope/predict', { instances: [IRIS] });
    expect(model.statusCode).toBe(404);
    expect(model.json()).toMatchObject({ code: 'MODEL_NOT_FOUND' });
    const version = await post('/v1/models/iris/versions/9/predict', { instances: [IRIS] });
    expect(version.statusCode).toBe(404);
    expect(version.json()).toMatchObject({ code: 'VERSION_NOT_FOUND' });
    const malformed = await post('/v1/models/iris/versions/latest!/predict', { instances: [IRIS] });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().details).toEqual([{ field: 'version', problem: 'must be a positive integer' }]);
  });

  it('serves a given version on /versions/{v}/predict', async () => {
    const response = await post('/v1/models/credit/versions/1/predict', { instances: [CREDIT] });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ model: 'credit', version: 1 });
  });

  it('answers 503 OVERLOADED with Retry-After when the queue is full, and recovers', async () => {
    const credit = app.get(ModelPoolService).getProduction('credit')!;
    const hold = deferred();
    const run = OnnxModelSession.prototype.run;
    const spy = jest.spyOn(OnnxModelSession.prototype, 'run').mockImplementation(async function (
      this: OnnxModelSession,
      ...args
    ) {
      await hold.promise;
      return run.apply(this, args);
    });
    try {
      // Fill the queue (QUEUE_MAX_ROWS = 4096) with rows held before inference.
      const held = Array.from({ length: 81 }, () =>
        post('/v1/models/credit/predict', { instances: Array.from({ length: 50 }, () => CREDIT) }),
      );
      await until(() => credit.batcher.depth === 81 * 50);
      const refused = await post('/v1/models/credit/predict', {
        instances: Array.from({ length: 50 }, () => CREDIT),
      });
      expect(refused.statusCode).toBe(503);
      expect(refused.headers['retry-after']).toBe('1');
      expect(refused.json()).toMatchObject({ code: 'OVERLOADED' });
      hold.resolve();
      const answered = await Promise.all(held);
      expect(answered.map((response) => response.statusCode)).toEqual(Array.from({ length: 81 }, () => 200));
    } finally {
      hold.resolve();
      spy.mockRestore();
    }
    expect(credit.batcher.depth).toBe(0);
    expect((await post('/v1/models/credit/predict', { instances: [CREDIT] })).statusCode).toBe(200);
  });

  it('records inference metrics per model version', async () => {
    const text = await app.get(Metrics).registry.metrics();
    expect(text).toMatch(/vigil_predictions_total\{model="iris",version="1",label="setosa"\} [1-9]/);
    expect(text).toMatch(/vigil_inference_batch_size_rows_count\{model="credit",version="1"\} [1-9]/);
    expect(text).toMatch(
      /vigil_inference_rejected_total\{model="credit",version="1",reason="overloaded"\} 1/,
    );
    expect(text).toMatch(/vigil_invalid_inputs_total\{model="credit"\} [1-9]/);
    expect(text).toMatch(
      /vigil_model_info\{model="iris",version="1",stage="Production",sha256="[0-9a-f]{64}"\} 1/,
    );
  });

  it('documents each served model at /docs with schemas and examples from its signature', async () => {
    const json = await app.inject({ method: 'GET', url: '/docs-json' });
    expect(json.statusCode).toBe(200);
    const document = json.json();
    const credit = document.paths['/v1/models/credit/predict'].post;
    expect(credit.requestBody.content['application/json'].example.instances[0]).toEqual(
      Object.fromEntries(creditSignature.features.map((feature) => [feature.name, feature.example])),
    );
    expect(Object.keys(credit.responses)).toEqual(
      expect.arrayContaining(['200', '400', '404', '413', '503']),
    );
    const instance = document.components.schemas.CreditInstance;
    expect(instance.properties.housing.enum).toEqual(['own', 'mortgage', 'rent', 'family']);
    expect(instance.properties.age).toMatchObject({ type: 'integer', minimum: 18, maximum: 100 });
    expect(document.paths['/predict'].post.requestBody.content['application/json'].example).toMatchObject({
      sepal_length: expect.any(Number),
    });
    const ui = await app.inject({ method: 'GET', url: '/docs' });
    expect(ui.statusCode).toBe(200);
    expect(ui.headers['content-type']).toContain('text/html');
  });
});
