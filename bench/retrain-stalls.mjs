// The event loop's stops during a retraining run: `node bench/retrain-stalls.mjs [--rows 50000]`.
// Starts `node dist/main.js` (fresh DATA_DIR, SQLite) with the stall hook (lib/stall-hook.cjs), stores
// `--rows` credit predictions (requests of 1,000 rows) and a label for each, runs
// `POST /v1/models/credit/retrain` and waits for its outcome, then lists the stops over `--threshold`
// ms that ended during the run: when (ms into the run), how long, and how much of each was GC or
// waiting for a core. This is how docs/performance.md found a retraining run's blocks (pass 14).
//   --rows N (50000)   --threshold MS (8)   --runs N (1)   --no-build
//   --node-arg ARG (repeatable, e.g. --cpu-prof --cpu-prof-dir=/tmp/prof: what each stop was)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freePort, spawnPinned, stopProcess, waitHttpOk } from './lib/proc.mjs';
import { loadSignature, makeRows } from './lib/workload.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '50000' },
    threshold: { type: 'string', default: '8' },
    runs: { type: 'string', default: '1' },
    'node-arg': { type: 'string', multiple: true, default: [] },
    'no-build': { type: 'boolean', default: false },
  },
});
const ROWS_PER_REQUEST = 1000;
const TOKEN = 'retrain-stalls-admin-token';

async function post(url, body, headers = {}) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const answer = await response.json();
  if (!response.ok) throw new Error(`${url}: ${response.status} ${JSON.stringify(answer).slice(0, 300)}`);
  return answer;
}

async function run(signature) {
  const dataDir = mkdtempSync(join(tmpdir(), 'vigil-retrain-stalls-'));
  const stallFile = join(dataDir, 'stalls.json');
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const server = spawnPinned(
    process.execPath,
    [...args['node-arg'], '--require', join(ROOT, 'bench/lib/stall-hook.cjs'), 'dist/main.js'],
    {
      cwd: ROOT,
      stderrFile: '/dev/stderr',
      env: {
        ...process.env,
        DATA_DIR: dataDir,
        HOST: '127.0.0.1',
        PORT: String(port),
        ADMIN_TOKEN: TOKEN,
        STALL_HOOK_FILE: stallFile,
        STALL_HOOK_MS: args.threshold,
        ACCESS_LOG: 'false',
        PREDICTION_LOG: 'false',
        OTEL_SDK_DISABLED: 'true',
        EVALUATION_INTERVAL_MS: '0',
        RATE_LIMIT_FEEDBACK_PER_MINUTE: '0',
        LOG_LEVEL: 'warn',
      },
    },
  );
  try {
    await waitHttpOk(`${base}/health/ready`, { child: server, timeoutMs: 60_000 });
    const rows = Number(args.rows);
    for (let done = 0; done < rows; done += ROWS_PER_REQUEST) {
      const instances = makeRows(signature, Math.min(ROWS_PER_REQUEST, rows - done), done + 1);
      const { predictions } = await post(`${base}/v1/models/credit/predict`, { instances });
      const feedback = predictions.map(({ predictionId }, index) => ({
        predictionId,
        label: signature.classes[(done + index) % 3 === 0 ? 1 : 0],
      }));
      await post(`${base}/v1/feedback`, { feedback });
    }
    // The last predictions reach the store after their answers: let the recorder write them.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const started = Date.now();
    await post(`${base}/v1/models/credit/retrain`, {}, { authorization: `Bearer ${TOKEN}` });
    let job;
    do {
      await new Promise((resolve) => setTimeout(resolve, 250));
      const status = await (await fetch(`${base}/v1/models/credit/retrain`)).json();
      job = status.running === null ? status.jobs[0] : undefined;
    } while (job === undefined && Date.now() - started < 300_000);
    const ended = Date.now();
    await stopProcess(server);
    const { stalls } = JSON.parse(readFileSync(stallFile, 'utf8'));
    const during = stalls
      .filter((stall) => stall.at >= started && stall.at <= ended)
      .sort((a, b) => b.gapMs - a.gapMs);
    console.log(
      `retrain ${job?.status ?? 'unfinished'} in ${((ended - started) / 1000).toFixed(1)} s: ` +
        `${during.length} stops over ${args.threshold} ms; longest (ms, at ms into the run):`,
    );
    for (const stall of during.slice(0, 10))
      console.log(
        `  ${stall.gapMs.toFixed(1).padStart(6)} at ${String(stall.at - started).padStart(6)}` +
          `  (GC ${stall.gcMs.toFixed(0)}, waited for a core ${stall.waitedMs.toFixed(0)})`,
      );
  } finally {
    await stopProcess(server);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (!args['no-build']) spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
const signature = loadSignature(join(ROOT, 'models'), 'credit');
for (let index = 0; index < Number(args.runs); index++) await run(signature);
