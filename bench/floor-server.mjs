// The floor: the least a JSON-over-HTTP ONNX server can do on this machine. Bare Fastify +
// onnxruntime-node, the same models and the same I/O as Vigil (parse JSON, build one [N,1] tensor per
// feature, run, answer JSON with label and per-class probabilities), nothing else: no validation, no
// telemetry, no batching. Vigil's throughput is reported as a ratio of this one's, measured in the
// same run on the same core.
//
//   node bench/floor-server.mjs --port 8090 --models models --model iris --model credit [--default iris]
import { parseArgs } from 'node:util';
import Fastify from 'fastify';
import ort from 'onnxruntime-node';
import { loadSignature } from './lib/workload.mjs';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '8090' },
    host: { type: 'string', default: '127.0.0.1' },
    models: { type: 'string', default: 'models' },
    model: { type: 'string', multiple: true, default: ['iris'] },
    default: { type: 'string' },
    // Experiments (docs/performance.md): the security headers Vigil sends, set two ways.
    //   fastify: @fastify/helmet as Vigil registers it (it rebuilds helmet's middleware per request);
    //   static:  the same headers computed once with helmet and set by one callback hook.
    helmet: { type: 'string', default: 'none' },
  },
});

/** Vigil's helmet options (src/app.ts). */
const HELMET_OPTIONS = {
  contentSecurityPolicy: {
    directives: {
      defaultSrc: [`'self'`],
      styleSrc: [`'self'`, `'unsafe-inline'`],
      imgSrc: [`'self'`, 'data:', 'validator.swagger.io'],
      scriptSrc: [`'self'`, `'unsafe-inline'`],
    },
  },
};

async function installSecurityHeaders(app, variant) {
  if (variant === 'fastify') {
    const { default: fastifyHelmet } = await import('@fastify/helmet');
    await app.register(fastifyHelmet, HELMET_OPTIONS);
  } else if (variant === 'static') {
    const { default: helmet } = await import('helmet');
    const headers = {};
    const response = {
      setHeader: (name, value) => (headers[name] = value),
      removeHeader: (name) => delete headers[name],
    };
    helmet(HELMET_OPTIONS)({}, response, () => {});
    app.addHook('onRequest', (_request, reply, done) => {
      reply.headers(headers);
      done();
    });
  } else if (variant !== 'none') {
    throw new Error(`--helmet must be none, fastify or static (got ${variant})`);
  }
}

async function loadModel(name) {
  const signature = loadSignature(values.models, name);
  const session = await ort.InferenceSession.create(`${values.models}/${name}/model.onnx`, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
  });
  const types = new Map(session.inputMetadata.map((input) => [input.name, input.type]));
  const inputs = session.inputNames.map((input) => ({ name: input, type: types.get(input) ?? 'float32' }));
  return { name, session, inputs, classes: signature.classes ?? [] };
}

function toFeeds(model, rows) {
  const feeds = {};
  const count = rows.length;
  for (const input of model.inputs) {
    if (input.type === 'string') {
      const data = new Array(count);
      for (let row = 0; row < count; row += 1) data[row] = String(rows[row][input.name]);
      feeds[input.name] = new ort.Tensor('string', data, [count, 1]);
    } else {
      const data = new Float32Array(count);
      for (let row = 0; row < count; row += 1) data[row] = Number(rows[row][input.name]);
      feeds[input.name] = new ort.Tensor('float32', data, [count, 1]);
    }
  }
  return feeds;
}

async function predict(model, rows) {
  const output = await model.session.run(toFeeds(model, rows));
  const labels = output.label.data;
  const probabilities = output.probabilities.data;
  const width = probabilities.length / rows.length;
  const predictions = new Array(rows.length);
  for (let row = 0; row < rows.length; row += 1) {
    const byClass = {};
    for (let column = 0; column < width; column += 1) {
      byClass[model.classes[column] ?? String(column)] = probabilities[row * width + column];
    }
    predictions[row] = { label: String(labels[row]), probabilities: byClass };
  }
  return { model: model.name, predictions };
}

const models = new Map();
for (const name of values.model) models.set(name, await loadModel(name));
// Like Vigil's DEFAULT_MODEL (iris) for the flat /predict route.
const defaultModel = models.get(values.default ?? (models.has('iris') ? 'iris' : values.model[0]));

const app = Fastify({ logger: false, bodyLimit: 1_048_576 });
await installSecurityHeaders(app, values.helmet);
app.get('/health/ready', async () => ({ status: 'ok' }));
app.post('/predict', async (request) => predict(defaultModel, [request.body]));
app.post('/v1/models/:name/predict', async (request, reply) => {
  const model = models.get(request.params.name);
  if (model === undefined) return reply.code(404).send({ code: 'MODEL_NOT_FOUND' });
  const instances = request.body?.instances;
  if (!Array.isArray(instances) || instances.length === 0) {
    return reply.code(400).send({ code: 'INVALID_INPUT' });
  }
  return predict(model, instances);
});

await app.listen({ port: Number(values.port), host: values.host });
process.on('SIGTERM', () => {
  void app.close().then(() => process.exit(0));
});
