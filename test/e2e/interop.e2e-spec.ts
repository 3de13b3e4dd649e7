/** @jest-environment ./test/support/onnxruntime.environment.js */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from '../../src/app';
import { makeConfig } from '../../src/config/config';
import { ModelPoolService } from '../../src/inference/model-pool.service';
import { OnnxModelSession } from '../../src/inference/onnx-session.adapter';
import { PredictionEvents, type PredictionRecord } from '../../src/prediction/prediction-events';
import { serviceVersion } from '../../src/telemetry/log-pipeline';
import { Metrics } from '../../src/telemetry/metrics';
import { CREDIT, deferred } from '../support/instances';

const MODELS_DIR = join(__dirname, '../../models');
const IRIS_FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'] as const;
/** Two iris rows: a setosa and a virginica. */
const IRIS_ROWS = [
  { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 },
  { sepal_length: 6.7, sepal_width: 3.0, petal_length: 5.2, petal_width: 2.3 },
];
const CREDIT_CATEGORICAL = new Set(['employment_type', 'housing', 'loan_purpose']);

/** The V2 request for `rows`: one `[N, 1]` tensor per feature (FP32, or BYTES for categorical ones). */
function tensors(
  rows: readonly Record<string, number | string>[],
): { name: string; shape: number[]; datatype: string; data: unknown[] }[] {
  return Object.keys(rows[0]!).map((name) => ({
    name,
    shape: [rows.length, 1],
    datatype: CREDIT_CATEGORICAL.has(name) ? 'BYTES' : 'FP32',
    data: rows.map((row) => row[name]),
  }));
}

describe('interop (e2e): Open Inference Protocol and MLflow scoring with the real iris and credit models', () => {
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
  const get = (url: string) => app.inject({ method: 'GET', url });
  const invalidInputs = async (model: string): Promise<number> =>
    (await app.get(Metrics).invalidInputs.get()).values.find((value) => value.labels.model === model)
      ?.value ?? 0;
  /** What `/v1` answers for the same rows: the reference the protocols must agree with. */
  const v1 = async (model: string, rows: readonly object[]) =>
    (await post(`/v1/models/${model}/predict`, { instances: rows })).json().predictions as {
      label: string;
      probabilities: Record<string, number>;
      score?: number;
    }[];

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'vigil-interop-'));
    // Hold model loading until the first tests have seen the "not ready" answers.
    const load = OnnxModelSession.load.bind(OnnxModelSession);
    jest.spyOn(OnnxModelSession, 'load').mockImplementation(async (...args) => {
      await loadGate.promise;
      return load(...args);
    });
    app = await createApp(
      makeConfig({
        DATA_DIR: dataDir,
        MODELS_DIR,
        DEFAULT_MODEL: 'iris',
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

  describe('before the models are loaded', () => {
    it('reports not ready (503) on every readiness endpoint, but live', async () => {
      const live = await get('/v2/health/live');
      expect(live.statusCode).toBe(200);
      expect(live.json()).toEqual({ live: true });
      const ready = await get('/v2/health/ready');
      expect(ready.statusCode).toBe(503);
      expect(ready.json()).toEqual({ live: true, ready: false });
      const model = await get('/v2/models/iris/ready');
      expect(model.statusCode).toBe(503);
      expect(model.json()).toEqual({ name: 'iris', ready: false });
      const ping = await get('/ping');
      expect(ping.statusCode).toBe(503);
      expect((await get('/health')).statusCode).toBe(503);
    });

    it('answers 503 with the protocol error body and Retry-After on infer and invocations', async () => {
      const infer = await post('/v2/models/iris/infer', { inputs: tensors(IRIS_ROWS) });
      expect(infer.statusCode).toBe(503);
      expect(infer.headers['retry-after']).toBe('1');
      expect(infer.json()).toEqual({ error: 'Model "iris" is not loaded yet' });
      const invocations = await post('/invocations', { dataframe_records: IRIS_ROWS });
      expect(invocations.statusCode).toBe(503);
      expect(invocations.json()).toEqual({
        error_code: 'TEMPORARILY_UNAVAILABLE',
        message: 'Model "iris" is not loaded yet',
      });
    });

    it('becomes ready once loaded', async () => {
      loadGate.resolve();
      await app.get(ModelPoolService).reconcile();
      const ready = await get('/v2/health/ready');
      expect(ready.statusCode).toBe(200);
      expect(ready.json()).toEqual({ live: true, ready: true });
      const model = await get('/v2/models/iris/ready');
      expect(model.statusCode).toBe(200);
      expect(model.json()).toEqual({ name: 'iris', ready: true });
      const ping = await get('/ping');
      expect(ping.statusCode).toBe(200);
      expect(ping.body).toBe('\n');
      expect(ping.headers['content-type']).toContain('application/json');
    });
  });

  describe('Open Inference Protocol: metadata and health', () => {
    it('GET /v2: server metadata', async () => {
      const response = await get('/v2');
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({ name: 'vigil', version: serviceVersion(), extensions: [] });
    });

    it('GET /v2/models/iris: name, versions, platform, one [-1, 1] FP32 input per feature, label and probabilities', async () => {
      const response = await get('/v2/models/iris');
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({
        name: 'iris',
        versions: ['1'],
        platform: 'onnx_onnxv1',
        inputs: IRIS_FEATURES.map((name) => ({ name, datatype: 'FP32', shape: [-1, 1] })),
        outputs: [
          { name: 'label', datatype: 'BYTES', shape: [-1] },
          { name: 'probabilities', datatype: 'FP32', shape: [-1, 3] },
        ],
      });
    });

    it('GET /v2/models/credit/versions/1: categorical features are BYTES, two classes', async () => {
      const response = await get('/v2/models/credit/versions/1');
      expect(response.statusCode).toBe(200);
      const body = response.json();
      expect(body.name).toBe('credit');
      expect(body.versions).toEqual(['1']);
      expect(body.inputs).toEqual(
        Object.keys(CREDIT).map((name) => ({
          name,
          datatype: CREDIT_CATEGORICAL.has(name) ? 'BYTES' : 'FP32',
          shape: [-1, 1],
        })),
      );
      expect(body.outputs[1]).toEqual({ name: 'probabilities', datatype: 'FP32', shape: [-1, 2] });
    });

    it('GET /v2/models/{m}/versions/{v}/ready: a version (number, v-prefixed or alias of Production)', async () => {
      for (const version of ['1', 'v1', 'production']) {
        const response = await get(`/v2/models/iris/versions/${version}/ready`);
        expect(response.statusCode).toBe(200);
        expect(response.json()).toEqual({ name: 'iris', ready: true });
      }
    });

    it.each([
      ['/v2/models/nope', 'Model "nope" is not registered'],
      ['/v2/models/nope/ready', 'Model "nope" is not registered'],
      ['/v2/models/iris/versions/9', 'Model "iris" has no version 9'],
      ['/v2/models/iris/versions/9/ready', 'Model "iris" has no version 9'],
      ['/v2/models/iris/versions/nope', 'Model "iris" has no version nope'],
      ['/v2/models/iris/nope', 'Cannot GET /v2/models/iris/nope'],
    ])('GET %s: 404 with {"error"}', async (url, error) => {
      const response = await get(url);
      expect(response.statusCode).toBe(404);
      expect(response.json()).toEqual({ error });
    });
  });

  describe('Open Inference Protocol: inference', () => {
    it('infers an iris batch: label [N] BYTES and probabilities [N, 3] FP32 row-major, as /v1 does', async () => {
      const response = await post(
        '/v2/models/iris/infer',
        { id: '42', inputs: tensors(IRIS_ROWS) },
        { 'x-request-id': 'req-v2-iris' },
      );
      expect(response.statusCode).toBe(200);
      const expected = await v1('iris', IRIS_ROWS);
      expect(response.json()).toEqual({
        model_name: 'iris',
        model_version: '1',
        id: '42',
        outputs: [
          { name: 'label', datatype: 'BYTES', shape: [2], data: ['setosa', 'virginica'] },
          {
            name: 'probabilities',
            datatype: 'FP32',
            shape: [2, 3],
            data: expected.flatMap((prediction) =>
              ['setosa', 'versicolor', 'virginica'].map((label) => prediction.probabilities[label]),
            ),
          },
        ],
      });
      expect(response.headers['x-request-id']).toBe('req-v2-iris');
    });

    it('accepts [N] shapes, nested data, FP64 and INT types; without an id it answers the request id', async () => {
      const inputs = [
        { name: 'sepal_length', shape: [2], datatype: 'FP64', data: [5.1, 6.7] },
        { name: 'sepal_width', shape: [2, 1], datatype: 'FP32', data: [[3.5], [3.0]] },
        { name: 'petal_length', shape: [2, 1], datatype: 'FP32', data: [1.4, 5.2] },
        { name: 'petal_width', shape: [2], datatype: 'FP16', data: [0.2, 2.3] },
      ];
      const response = await post(
        '/v2/models/iris/infer',
        { inputs, outputs: [{ name: 'label' }] },
        { 'x-request-id': 'req-no-id' },
      );
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({
        model_name: 'iris',
        model_version: '1',
        id: 'req-no-id',
        outputs: [{ name: 'label', datatype: 'BYTES', shape: [2], data: ['setosa', 'virginica'] }],
      });
    });

    it('infers credit (BYTES categorical inputs, INT32 counts) with the requested outputs only, in order', async () => {
      const inputs = tensors([CREDIT]).map((input) =>
        input.name === 'age' || input.name === 'late_payments' ? { ...input, datatype: 'INT32' } : input,
      );
      const response = await post('/v2/models/credit/versions/1/infer', {
        inputs,
        outputs: [
          { name: 'score' },
          { name: 'prediction_id', parameters: { binary_data: false } },
          { name: 'label' },
        ],
      });
      expect(response.statusCode).toBe(200);
      const body = response.json();
      const [expected] = await v1('credit', [CREDIT]);
      expect(body.model_name).toBe('credit');
      expect(body.model_version).toBe('1');
      expect(body.outputs).toEqual([
        { name: 'score', datatype: 'FP32', shape: [1], data: [expected!.score] },
        { name: 'prediction_id', datatype: 'BYTES', shape: [1], data: [expect.stringMatching(/^[\w-]+-0$/)] },
        { name: 'label', datatype: 'BYTES', shape: [1], data: [expected!.label] },
      ]);
    });

    it('feeds the prediction path: records (store, logs) carry the rows, the ids and the request id', async () => {
      records.length = 0;
      const response = await post(
        '/v2/models/iris/infer',
        { inputs: tensors(IRIS_ROWS), outputs: [{ name: 'prediction_id' }] },
        { 'x-request-id': 'req-v2-records' },
      );
      expect(response.statusCode).toBe(200);
      expect(records).toHaveLength(1);
      expect(records[0]!.map((record) => record.predictionId)).toEqual(response.json().outputs[0].data);
      expect(records[0]![1]).toMatchObject({
        requestId: 'req-v2-records',
        model: 'iris',
        version: 1,
        inputs: IRIS_ROWS[1],
        label: 'virginica',
      });
    });

    it.each([
      ['no Content-Type (tritonclient)', {}],
      ['application/octet-stream (tritonclient.http.aio)', { 'content-type': 'application/octet-stream' }],
    ])('reads JSON sent with %s', async (_case, headers: Record<string, string>) => {
      const response = await app.inject({
        method: 'POST',
        url: '/v2/models/iris/infer',
        payload: JSON.stringify({ inputs: tensors(IRIS_ROWS.slice(0, 1)) }),
        headers,
      });
      expect(response.statusCode).toBe(200);
      expect(response.json().outputs[0].data).toEqual(['setosa']);
    });

    const iris = (change: (inputs: ReturnType<typeof tensors>) => unknown[]) => ({
      inputs: change(tensors(IRIS_ROWS)),
    });
    it.each<[string, unknown, number, string]>([
      [
        'a wrong datatype',
        iris((inputs) =>
          inputs.map((input) =>
            input.name === 'sepal_width' ? { ...input, datatype: 'BYTES', data: ['3.5', '3.0'] } : input,
          ),
        ),
        400,
        'Invalid input: sepal_width.datatype: is BYTES but the input is numeric: use FP32 (or FP16, FP64, INT*, UINT*)',
      ],
      [
        'a shape / data length mismatch',
        iris((inputs) =>
          inputs.map((input) =>
            input.name === 'petal_length' ? { ...input, data: [1.4, 5.2, 4.0] } : input,
          ),
        ),
        400,
        'Invalid input: petal_length.data: has 3 element(s) but shape [2, 1] holds 2',
      ],
      [
        'an unknown input',
        iris((inputs) => [
          ...inputs,
          { name: 'input0', shape: [2, 2], datatype: 'UINT32', data: [1, 2, 3, 4] },
        ]),
        400,
        'Invalid input: inputs[4]: unknown input "input0"; the model\'s inputs are: sepal_length, sepal_width, petal_length, petal_width',
      ],
      [
        'a missing input',
        iris((inputs) => inputs.filter((input) => input.name !== 'petal_width')),
        400,
        'Invalid input: inputs: missing input(s): petal_width',
      ],
      [
        'inputs with different batch sizes',
        iris((inputs) =>
          inputs.map((input) =>
            input.name === 'sepal_width' ? { ...input, shape: [1, 1], data: [3.5] } : input,
          ),
        ),
        400,
        'Invalid input: sepal_width: has 1 row(s) but sepal_length has 2: every input must have the same batch size',
      ],
      [
        'a value the model refuses (below the physical minimum)',
        iris((inputs) =>
          inputs.map((input) => (input.name === 'petal_width' ? { ...input, data: [0.2, -1] } : input)),
        ),
        400,
        'Invalid input: petal_width[1]: must be >= 0',
      ],
      [
        'an unknown output',
        { inputs: tensors(IRIS_ROWS), outputs: [{ name: 'output0' }] },
        400,
        'Invalid input: outputs[0]: unknown output "output0"; this model\'s outputs are: label, probabilities, prediction_id',
      ],
      ['no inputs', { id: '1' }, 400, 'Invalid input: inputs: is required'],
      [
        'malformed JSON',
        '{"inputs": [',
        400,
        "Body is not valid JSON but content-type is set to 'application/json'",
      ],
      [
        'more rows than MAX_INSTANCES_PER_REQUEST',
        { inputs: tensors(Array.from({ length: 51 }, () => IRIS_ROWS[0]!)) },
        413,
        '51 instances exceed the limit of 50 per request',
      ],
    ])('refuses %s: status and {"error"} checked', async (_case, body, status, error) => {
      const response = await post('/v2/models/iris/infer', body);
      expect(response.statusCode).toBe(status);
      expect(response.headers['content-type']).toContain('application/json');
      expect(response.json()).toEqual({ error });
    });

    it('refuses a body over BODY_LIMIT_BYTES (413, raised before the handler) with {"error"} too', async () => {
      const response = await post('/v2/models/iris/infer', {
        inputs: tensors(IRIS_ROWS),
        parameters: { padding: 'x'.repeat(25_000) },
      });
      expect(response.statusCode).toBe(413);
      // The wording is the global filter's; the body shape is the protocol's.
      expect(Object.keys(response.json())).toEqual(['error']);
      expect(response.json().error).toMatch(/large/);
    });

    it('refuses a categorical value the model does not know, naming input and row', async () => {
      const inputs = tensors([CREDIT]).map((input) =>
        input.name === 'housing' ? { ...input, data: ['castle'] } : input,
      );
      const response = await post('/v2/models/credit/infer', { inputs });
      expect(response.statusCode).toBe(400);
      expect(response.json()).toEqual({
        error: 'Invalid input: housing[0]: must be one of: own, mortgage, rent, family',
      });
    });

    it('counts protocol-level refusals in vigil_invalid_inputs_total, like /v1', async () => {
      const before = await invalidInputs('iris');
      await post(
        '/v2/models/iris/infer',
        iris((inputs) => inputs.slice(1)),
      );
      expect(await invalidInputs('iris')).toBe(before + 1);
    });

    it('refuses an unknown model (404) and binary tensor data (400)', async () => {
      const unknown = await post('/v2/models/nope/infer', { inputs: tensors(IRIS_ROWS) });
      expect(unknown.statusCode).toBe(404);
      expect(unknown.json()).toEqual({ error: 'Model "nope" is not registered' });
      const binary = await app.inject({
        method: 'POST',
        url: '/v2/models/iris/infer',
        payload: '{"inputs":[]}\u0000\u0001',
        headers: { 'inference-header-content-length': '13' },
      });
      expect(binary.statusCode).toBe(400);
      expect(binary.json()).toEqual({
        error: 'Binary tensor data is not supported: send JSON only (tritonclient: binary_data=False)',
      });
    });
  });

  describe('MLflow scoring protocol (DEFAULT_MODEL = iris)', () => {
    const split = {
      dataframe_split: {
        columns: [...IRIS_FEATURES],
        data: IRIS_ROWS.map((row) => IRIS_FEATURES.map((name) => row[name])),
      },
    };

    it.each<[string, unknown]>([
      ['dataframe_split', split],
      ['dataframe_records', { dataframe_records: IRIS_ROWS }],
      ['instances', { instances: IRIS_ROWS }],
      [
        'inputs (columnar)',
        {
          inputs: Object.fromEntries(IRIS_FEATURES.map((name) => [name, IRIS_ROWS.map((row) => row[name])])),
        },
      ],
    ])('scores %s: {"predictions": [labels]}', async (_case, body) => {
      const response = await post('/invocations', body);
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({ predictions: ['setosa', 'virginica'] });
    });

    it('scores CSV as pandas writes it (index column, CRLF)', async () => {
      const csv = `,${IRIS_FEATURES.join(',')}\r\n${IRIS_ROWS.map((row, index) => [index, ...IRIS_FEATURES.map((name) => row[name])].join(',')).join('\r\n')}\r\n`;
      const response = await post('/invocations', csv, { 'content-type': 'text/csv; charset=utf-8' });
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({ predictions: ['setosa', 'virginica'] });
    });

    it('answers probabilities (class order) or full prediction objects with params.output', async () => {
      const expected = await v1('iris', IRIS_ROWS);
      const probabilities = await post('/invocations', { ...split, params: { output: 'probabilities' } });
      expect(probabilities.json()).toEqual({
        predictions: expected.map((prediction) =>
          ['setosa', 'versicolor', 'virginica'].map((label) => prediction.probabilities[label]),
        ),
      });
      const full = await post('/invocations', { ...split, params: { output: 'full' } });
      expect(full.json()).toEqual({
        predictions: expected.map((prediction) => ({ ...prediction, predictionId: expect.any(String) })),
      });
    });

    it('GET /version answers the server version as text', async () => {
      const response = await get('/version');
      expect(response.statusCode).toBe(200);
      expect(response.body).toBe(serviceVersion());
    });

    it.each<[string, string, string, number, Record<string, string>]>([
      [
        'two input formats',
        JSON.stringify({ instances: IRIS_ROWS, inputs: IRIS_ROWS }),
        'application/json',
        400,
        {
          error_code: 'BAD_REQUEST',
          message:
            "The input must be a JSON dictionary with exactly one of the input fields 'dataframe_split', 'dataframe_records', 'instances', 'inputs'. Received dictionary with input fields: ['instances', 'inputs']",
        },
      ],
      [
        'malformed JSON',
        '{"instances": [',
        'application/json',
        400,
        {
          error_code: 'BAD_REQUEST',
          message: "Body is not valid JSON but content-type is set to 'application/json'",
        },
      ],
      [
        'a CSV row of the wrong width',
        'sepal_length,sepal_width,petal_length,petal_width\n5.1,3.5,1.4\n',
        'text/csv',
        400,
        { error_code: 'BAD_REQUEST', message: 'Invalid input: line 2: has 3 field(s) but the header has 4' },
      ],
      [
        'a missing column and a text value',
        JSON.stringify({
          dataframe_records: [{ sepal_length: 5.1, sepal_width: 'wide', petal_length: 1.4 }],
        }),
        'application/json',
        400,
        {
          error_code: 'INVALID_PARAMETER_VALUE',
          message: 'Invalid input: sepal_width (row 0): must be a number; petal_width (row 0): is required',
        },
      ],
      [
        'an unknown params.output',
        JSON.stringify({ instances: IRIS_ROWS, params: { output: 'proba' } }),
        'application/json',
        400,
        {
          error_code: 'INVALID_PARAMETER_VALUE',
          message: 'Invalid input: params.output: must be one of: label, probabilities, full',
        },
      ],
      [
        'text/plain',
        'x',
        'text/plain',
        415,
        {
          error_code: 'BAD_REQUEST',
          message:
            "This predictor only supports the following content types: application/json, text/csv. Got 'text/plain'.",
        },
      ],
      [
        'application/xml',
        '<x/>',
        'application/xml',
        415,
        {
          error_code: 'BAD_REQUEST',
          message:
            "This predictor only supports the following content types: application/json, text/csv. Got 'application/xml'.",
        },
      ],
      [
        'more rows than MAX_INSTANCES_PER_REQUEST',
        JSON.stringify({ dataframe_records: Array.from({ length: 51 }, () => IRIS_ROWS[0]) }),
        'application/json',
        413,
        { error_code: 'REQUEST_LIMIT_EXCEEDED', message: '51 instances exceed the limit of 50 per request' },
      ],
    ])(
      'refuses %s: status and {error_code, message} checked',
      async (_case, payload, contentType, status, body) => {
        const response = await post('/invocations', payload, { 'content-type': contentType });
        expect(response.statusCode).toBe(status);
        expect(response.headers['content-type']).toContain('application/json');
        expect(response.json()).toEqual(body);
      },
    );
  });

  it('leaves /v1 unchanged: CSV, octet-stream and bodies without Content-Type are still 415 in Vigil’s envelope', async () => {
    const csv = await post('/v1/models/iris/predict', 'a,b\n1,2\n', { 'content-type': 'text/csv' });
    expect(csv.statusCode).toBe(415);
    expect(csv.json()).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE', requestId: expect.any(String) });
    for (const headers of [{}, { 'content-type': 'application/octet-stream' }]) {
      const bare = await app.inject({
        method: 'POST',
        url: '/v1/models/iris/predict',
        payload: '{}',
        headers,
      });
      expect(bare.statusCode).toBe(415);
      expect(bare.json()).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' });
    }
  });
});
