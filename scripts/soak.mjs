#!/usr/bin/env node
// Soak test (not in CI): steady prediction traffic for a configurable time while a model version is
// promoted every few seconds and feedback flows. Reports errors, throughput, p50/p99 per window, p99
// drift (last window vs first) and RSS/heap growth of the server. Exit 1 on any error.
//
//   node scripts/soak.mjs [--duration 300] [--concurrency 8] [--promote-every 3] [--window 10]
//                         [--feedback-share 0.2] [--url http://host:port --token T] [--json out.json]
//                         [--env KEY=VALUE,KEY=VALUE] (settings of the server it starts)
//
// Without --url it builds nothing: it starts `node dist/main.js` on a free port with a temporary
// DATA_DIR (SQLite), trains a second iris version with the CLI, registers it, and drives that server.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = new URL('..', import.meta.url).pathname;
const IRIS = { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 };
const LABELS = ['setosa', 'versicolor', 'virginica'];

function option(name, fallback) {
  const index = process.argv.indexOf(`--${name}`);
  return index > 0 ? process.argv[index + 1] : fallback;
}
const durationS = Number(option('duration', 300));
const concurrency = Number(option('concurrency', 8));
const promoteEveryS = Number(option('promote-every', 3));
const windowS = Number(option('window', 10));
const feedbackShare = Number(option('feedback-share', 0.2));
const jsonOut = option('json', undefined);
// Extra settings for the server we start, e.g. --env PREDICTION_STORE_ENABLED=false,QUEUE_MAX_ROWS=8192
const serverEnv = Object.fromEntries(
  (option('env', '') ?? '')
    .split(',')
    .filter((pair) => pair.includes('='))
    .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
);
let base = option('url', undefined);
let token = option('token', process.env.ADMIN_TOKEN ?? 'soak-admin-token-0123456789');

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const percentile = (values, p) => {
  if (values.length === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
};
const metric = (text, name) =>
  text
    .split('\n')
    .filter((line) => line.startsWith(`${name} `) || line.startsWith(`${name}{`))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function until(condition, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${timeoutMs} ms`);
    await sleep(100);
  }
}

// --- Set-up: our own server unless --url ----------------------------------------------------------
let child;
let dataDir;
let modelDir;
if (base === undefined) {
  dataDir = mkdtempSync(join(tmpdir(), 'vigil-soak-'));
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  child = spawn(process.execPath, ['--v8-pool-size=2', join(ROOT, 'dist/main.js')], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      MODELS_DIR: join(ROOT, 'models'),
      ADMIN_TOKEN: token,
      OTEL_SDK_DISABLED: 'true',
      ACCESS_LOG: 'false',
      PREDICTION_LOG: 'false',
      EVALUATION_INTERVAL_MS: '0',
      // As the image sets it (Dockerfile `ENV MALLOC_ARENA_MAX`): without it, RSS was 36 MB higher after
      // 300 s (docs/reliability.md).
      MALLOC_ARENA_MAX: '2',
      ...serverEnv,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  child.once('exit', (code) => {
    if (!stopping) {
      process.stderr.write(`server exited unexpectedly (${code})\n`);
      process.exit(2);
    }
  });
}
let stopping = false;
await until(async () => (await fetch(`${base}/health/ready`)).ok, 60_000, 'server readiness');

const auth = { authorization: `Bearer ${token}` };
let versions = [];
if (child !== undefined) {
  modelDir = mkdtempSync(join(tmpdir(), 'vigil-soak-model-'));
  const trained = spawnSync(
    process.execPath,
    [
      join(ROOT, 'dist/cli.js'),
      'train',
      '--dataset',
      'iris',
      '--algorithm',
      'logreg',
      '--seed',
      '5',
      '--out',
      modelDir,
      '--no-progress',
    ],
    { cwd: ROOT, encoding: 'utf8' },
  );
  if (trained.status !== 0) throw new Error(`training failed: ${trained.stderr}`);
  const form = new FormData();
  for (const part of ['model.onnx', 'signature.json', 'metrics.json', 'reference.json'])
    form.append(part.split('.')[0], new Blob([readFileSync(join(modelDir, part))]), part);
  form.append('stage', 'Staging');
  const registered = await fetch(`${base}/v1/models/iris/versions`, {
    method: 'POST',
    headers: auth,
    body: form,
  });
  if (!registered.ok) throw new Error(`registration failed: ${registered.status} ${await registered.text()}`);
}
versions = ((await (await fetch(`${base}/v1/models/iris/versions`)).json()) ?? []).map(
  (version) => version.version,
);

// --- Load -------------------------------------------------------------------------------------------
const started = Date.now();
const deadline = started + durationS * 1000;
const windows = [];
let current = { start: started, latencies: [], errors: 0 };
const errors = new Map();
let requests = 0;
let promotions = 0;
let promotionErrors = 0;
let feedbackSent = 0;
let feedbackErrors = 0;
const pendingFeedback = [];
const versionsServed = new Map();

function record(latencyMs, error) {
  const now = Date.now();
  while (now - current.start >= windowS * 1000) {
    windows.push(current);
    current = { start: current.start + windowS * 1000, latencies: [], errors: 0 };
  }
  current.latencies.push(latencyMs);
  if (error !== undefined) {
    current.errors += 1;
    errors.set(error, (errors.get(error) ?? 0) + 1);
  }
}

async function predictLoop() {
  while (Date.now() < deadline) {
    const sentAt = performance.now();
    let error;
    try {
      const response = await fetch(`${base}/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(IRIS),
      });
      const body = await response.json();
      requests += 1;
      if (response.status !== 200) error = `${response.status} ${body.code ?? ''}`;
      else {
        versionsServed.set(body.version, (versionsServed.get(body.version) ?? 0) + 1);
        if (Math.random() < feedbackShare)
          pendingFeedback.push({
            predictionId: body.predictions[0].predictionId,
            label: LABELS[Math.floor(Math.random() * 3)],
          });
      }
    } catch (caught) {
      requests += 1;
      error = `network ${caught.cause?.code ?? caught.message}`;
    }
    record(performance.now() - sentAt, error);
  }
}

async function promoteLoop() {
  let index = 0;
  while (Date.now() + promoteEveryS * 1000 < deadline && versions.length > 1) {
    await sleep(promoteEveryS * 1000);
    const target = versions[(index += 1) % versions.length];
    const response = await fetch(`${base}/v1/models/iris/versions/${target}/stage`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ stage: 'Production', force: true, reason: 'soak' }),
    }).catch(() => undefined);
    if (response?.ok) promotions += 1;
    else promotionErrors += 1;
  }
}

async function feedbackLoop() {
  while (Date.now() < deadline) {
    await sleep(1000);
    const batch = pendingFeedback.splice(0, 500);
    if (batch.length === 0) continue;
    const response = await fetch(`${base}/v1/feedback`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ feedback: batch }),
    }).catch(() => undefined);
    if (response?.ok) feedbackSent += batch.length;
    else feedbackErrors += batch.length;
  }
}

const memory = async () => {
  const text = await (await fetch(`${base}/metrics`)).text();
  return {
    rssBytes: metric(text, 'process_resident_memory_bytes'),
    heapBytes: metric(text, 'nodejs_heap_size_used_bytes'),
  };
};
// Warm-up before the baseline: the first seconds allocate caches, JIT code and pools.
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    for (let index = 0; index < 50; index += 1)
      await fetch(`${base}/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(IRIS),
      });
  }),
);
const memoryStart = await memory();
const rssSamplesMb = [];
async function memoryLoop() {
  while (Date.now() + windowS * 1000 <= deadline) {
    await sleep(windowS * 1000);
    const sample = await memory().catch(() => undefined);
    if (sample !== undefined) rssSamplesMb.push(Number((sample.rssBytes / 1_048_576).toFixed(1)));
  }
}
await Promise.all([
  ...Array.from({ length: concurrency }, predictLoop),
  promoteLoop(),
  feedbackLoop(),
  memoryLoop(),
]);
windows.push(current);
const memoryEnd = await memory();

process.on('exit', () => {
  if (child !== undefined && child.exitCode === null) child.kill('SIGKILL');
});

// --- Report -----------------------------------------------------------------------------------------
const full = windows.filter((window) => window.latencies.length > 0);
const perWindow = full.map((window, index) => ({
  window: index,
  requests: window.latencies.length,
  errors: window.errors,
  p50Ms: Number(percentile(window.latencies, 50).toFixed(2)),
  p99Ms: Number(percentile(window.latencies, 99).toFixed(2)),
}));
const all = full.flatMap((window) => window.latencies);
const first = perWindow[0];
const last = perWindow.length > 1 ? perWindow[perWindow.length - 2] : perWindow[0]; // last complete window
const errorCount =
  [...errors.values()].reduce((sum, count) => sum + count, 0) + promotionErrors + feedbackErrors;
const report = {
  durationS,
  concurrency,
  requests,
  requestsPerSecond: Number((requests / ((Date.now() - started) / 1000)).toFixed(1)),
  errors: Object.fromEntries(errors),
  errorCount,
  promotions,
  promotionErrors,
  versionsServed: Object.fromEntries(versionsServed),
  feedbackSent,
  feedbackErrors,
  latencyMs: {
    p50: Number(percentile(all, 50).toFixed(2)),
    p99: Number(percentile(all, 99).toFixed(2)),
    max: Number(all.reduce((max, value) => Math.max(max, value), 0).toFixed(2)),
  },
  p99DriftMs: Number((last.p99Ms - first.p99Ms).toFixed(2)),
  rssStartMb: Number((memoryStart.rssBytes / 1_048_576).toFixed(1)),
  rssEndMb: Number((memoryEnd.rssBytes / 1_048_576).toFixed(1)),
  rssGrowthMb: Number(((memoryEnd.rssBytes - memoryStart.rssBytes) / 1_048_576).toFixed(1)),
  heapGrowthMb: Number(((memoryEnd.heapBytes - memoryStart.heapBytes) / 1_048_576).toFixed(1)),
  rssSamplesMb,
  windows: perWindow,
};

stopping = true;
if (child !== undefined) {
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(modelDir, { recursive: true, force: true });
}
if (jsonOut !== undefined) writeFileSync(jsonOut, `${JSON.stringify(report, null, 2)}\n`);
console.log(
  `soak ${durationS}s x${concurrency}: ${requests} requests (${report.requestsPerSecond}/s), ${errorCount} errors, ` +
    `${promotions} promotions, ${feedbackSent} feedback labels; p50 ${report.latencyMs.p50} ms, p99 ${report.latencyMs.p99} ms ` +
    `(drift ${report.p99DriftMs} ms first→last window); RSS ${report.rssStartMb} → ${report.rssEndMb} MB ` +
    `(${report.rssGrowthMb} MB), heap ${report.heapGrowthMb} MB`,
);
if (process.argv.includes('--verbose')) console.log(JSON.stringify(report, null, 2));
process.exit(errorCount > 0 ? 1 : 0);
