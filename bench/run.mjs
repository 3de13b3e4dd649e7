// Vigil's benchmark harness: `npm run bench -- [options]` (see --help and docs/performance.md).
// Builds the service, starts it and the floor server (bare Fastify + ORT) one after the other on the
// same pinned core, drives each scenario with wrk (or autocannon) from another core, and writes
// bench/results/<date>.{json,md,svg}.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, release } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { pickLoadGenerator, runLoad } from './lib/loadgen.mjs';
import { defaultPinning, startUsageSampler, waitRequestOk } from './lib/proc.mjs';
import { BenchSession, sinkStats } from './lib/servers.mjs';
import { renderMarkdown, renderSvg, evaluateTargets } from './lib/report.mjs';
import { PROFILES, QUICK_FILTER, allScenarios } from './lib/scenarios.mjs';
import { loadSignature, makeRequests } from './lib/workload.mjs';
import { runExtras } from './lib/extras.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const HELP = `Usage: npm run bench -- [options]

  --quick              the target scenarios only, 3 s each, 1 s warm-up
  --filter REGEX       only scenarios whose id matches (ids: <profile>.<model>-<rows>.c<conns>)
  --list               print the scenario ids and exit
  --duration S         measured seconds per scenario (default 10; quick 3)
  --warmup S           unmeasured seconds before each scenario (default 2; quick 1)
  --rounds N           repeat everything N times, interleaved, and report medians (default 1)
  --loadgen NAME       wrk | autocannon (default: wrk when installed)
  --models DIR         model directory (default models/)
  --out DIR            where results go (default bench/results/)
  --no-build           do not run npm run build first
  --no-extras          skip drift / training timings
  --env KEY=VALUE      extra environment for every Vigil server (repeatable), e.g. DATABASE_URL=…
  --node-arg ARG       extra node flag for every Vigil server (repeatable), e.g. --max-semi-space-size=32
  --floor-arg ARG      extra floor-server flag (repeatable), e.g. --floor-arg=--helmet=static
  --server-cpus LIST   taskset list for the servers (default 1)
  --loadgen-cpus LIST  taskset list for the load generator and sink (default 0)
  --no-pin             no taskset at all
`;

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    filter: { type: 'string' },
    list: { type: 'boolean', default: false },
    duration: { type: 'string' },
    warmup: { type: 'string' },
    rounds: { type: 'string', default: '1' },
    loadgen: { type: 'string', default: 'auto' },
    models: { type: 'string', default: join(ROOT, 'models') },
    out: { type: 'string', default: join(ROOT, 'bench', 'results') },
    'no-build': { type: 'boolean', default: false },
    'no-extras': { type: 'boolean', default: false },
    env: { type: 'string', multiple: true, default: [] },
    'node-arg': { type: 'string', multiple: true, default: [] },
    'floor-arg': { type: 'string', multiple: true, default: [] },
    'server-cpus': { type: 'string' },
    'loadgen-cpus': { type: 'string' },
    'no-pin': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

if (args.help) {
  process.stdout.write(HELP);
  process.exit(0);
}

const durationSeconds = Number(args.duration ?? (args.quick ? 3 : 10));
const warmupSeconds = Number(args.warmup ?? (args.quick ? 1 : 2));
const rounds = Math.max(1, Number(args.rounds));
const modelsDir = resolve(args.models);
const filter = args.filter ? new RegExp(args.filter) : args.quick ? QUICK_FILTER : null;
const scenarios = allScenarios().filter((item) => !filter || filter.test(item.id));

if (args.list) {
  for (const item of allScenarios())
    process.stdout.write(`${filter && !filter.test(item.id) ? '  ' : '* '}${item.id}\n`);
  process.exit(0);
}
if (scenarios.length === 0) {
  process.stderr.write(`no scenario matches ${String(filter)} (see --list)\n`);
  process.exit(2);
}

const pinning = args['no-pin']
  ? { server: null, loadgen: null, cores: availableParallelism() }
  : defaultPinning();
if (args['server-cpus']) pinning.server = args['server-cpus'];
if (args['loadgen-cpus']) pinning.loadgen = args['loadgen-cpus'];
const generator = pickLoadGenerator(args.loadgen);

const log = (message) => process.stderr.write(`[bench] ${message}\n`);
const session = BenchSession.open({
  name: 'bench',
  root: ROOT,
  modelsDir,
  pinning,
  env: args.env,
  nodeArgs: args['node-arg'],
  floorArgs: args['floor-arg'],
});

async function cleanup() {
  await session.close();
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    void cleanup().then(() => process.exit(130));
  });
}

function gitInfo() {
  const commit = spawnSync('git', ['rev-parse', '--short', 'HEAD'], {
    cwd: ROOT,
    encoding: 'utf8',
  }).stdout.trim();
  const dirty =
    spawnSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      cwd: ROOT,
      encoding: 'utf8',
    }).stdout.trim().length > 0;
  return { commit, dirty };
}

/** Requests per scenario (deterministic), built once. */
const requestsByScenario = new Map();
function requestsFor(item) {
  if (!requestsByScenario.has(item.id)) {
    const signature = loadSignature(modelsDir, item.model);
    requestsByScenario.set(
      item.id,
      makeRequests(signature, { shape: item.shape, rowsPerRequest: item.rowsPerRequest, variants: 32 }),
    );
  }
  return requestsByScenario.get(item.id);
}

/**
 * Vigil's counters for a window, read from /metrics at each end: the batch-size histogram (Δ: the mean
 * rows per ONNX Runtime call) and the longest event-loop delay. prom-client resets its event-loop
 * histogram at each scrape, so the figure read at the end covers the window since the first read.
 */
async function serverCounters(baseUrl) {
  try {
    const response = await fetch(`${baseUrl}/metrics`, { signal: AbortSignal.timeout(2000) });
    if (response.status !== 200) return null;
    const text = await response.text();
    let sum = 0;
    let count = 0;
    let lagMaxMs = null;
    for (const line of text.split('\n')) {
      if (line.startsWith('vigil_inference_batch_size_rows_sum')) sum += Number(line.split(' ').pop());
      if (line.startsWith('vigil_inference_batch_size_rows_count')) count += Number(line.split(' ').pop());
      if (line.startsWith('nodejs_eventloop_lag_max_seconds'))
        lagMaxMs = Math.round(Number(line.split(' ').pop()) * 1e5) / 100;
    }
    return { sum, count, lagMaxMs };
  } catch {
    return null;
  }
}

// --- Scenarios ---------------------------------------------------------------------------------------

async function measure(server, item, sink) {
  const requests = requestsFor(item);
  await waitRequestOk(server.baseUrl, requests[0]);
  const load = { url: server.baseUrl, requests, connections: item.connections, cpus: pinning.loadgen };
  if (warmupSeconds > 0) await runLoad(generator, { ...load, durationSeconds: warmupSeconds });
  const countersBefore =
    PROFILES[item.profile].kind === 'floor' ? null : await serverCounters(server.baseUrl);
  const sinkBefore = await sinkStats(sink);
  const sampler = startUsageSampler(server.child.pid);
  const result = await runLoad(generator, { ...load, durationSeconds });
  const usage = sampler.stop();
  const countersAfter = countersBefore ? await serverCounters(server.baseUrl) : null;
  const sinkAfter = await sinkStats(sink);
  const batchCalls = countersAfter ? countersAfter.count - countersBefore.count : 0;
  return {
    ...result,
    rowsPerSecond: result.rps * item.rowsPerRequest,
    server: {
      ...usage,
      cpuUsPerRequest: result.requests > 0 ? Math.round((usage.cpuSeconds * 1e6) / result.requests) : null,
    },
    meanBatchRows:
      batchCalls > 0 ? Math.round(((countersAfter.sum - countersBefore.sum) / batchCalls) * 10) / 10 : null,
    eventLoopLagMaxMs: countersAfter?.lagMaxMs ?? null,
    shipped:
      sinkBefore && sinkAfter
        ? {
            logDocuments: sinkAfter.logDocuments - sinkBefore.logDocuments,
            traceExports: sinkAfter.traceRequests - sinkBefore.traceRequests,
          }
        : null,
  };
}

const median = (numbers) => {
  const sorted = numbers.filter((value) => typeof value === 'number').sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const middle = Math.floor(sorted.length / 2);
  // Rounded to 6 decimals: the mean of two rounded figures would print as 21.061999999999998.
  return sorted.length % 2
    ? sorted[middle]
    : Math.round(((sorted[middle - 1] + sorted[middle]) / 2) * 1e6) / 1e6;
};

/** Median of every numeric leaf across rounds (each metric on its own). */
function medianOf(results) {
  const [first] = results;
  if (results.length === 1 || first === null || typeof first !== 'object') return first;
  const merged = {};
  for (const key of Object.keys(first)) {
    const values = results.map((result) => result?.[key]);
    merged[key] =
      typeof first[key] === 'number'
        ? median(values)
        : first[key] && typeof first[key] === 'object'
          ? medianOf(values)
          : first[key];
  }
  return merged;
}

async function main() {
  const startedAt = new Date();
  const needsVigil = scenarios.some((item) => PROFILES[item.profile].kind !== 'floor');
  if (needsVigil && !args['no-build']) {
    log('building the service (npm run build)…');
    const build = spawnSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
    if (build.status !== 0) throw new Error('npm run build failed');
  }
  log(
    `${scenarios.length} scenario(s) × ${rounds} round(s), ${durationSeconds} s each (+${warmupSeconds} s warm-up), ` +
      `load: ${generator}, pinning: server ${pinning.server ?? 'none'} / load ${pinning.loadgen ?? 'none'}`,
  );

  const profileOrder = Object.keys(PROFILES).filter((name) =>
    scenarios.some((item) => item.profile === name),
  );
  const needsSink = profileOrder.some((name) => PROFILES[name].sink);
  const sink = needsSink ? await session.startSink() : null;
  const raw = new Map(scenarios.map((item) => [item.id, []]));
  const startups = [];
  const failures = [];

  for (let round = 1; round <= rounds; round += 1) {
    for (const profileName of profileOrder) {
      const list = scenarios.filter((item) => item.profile === profileName);
      let server;
      try {
        server = await session.startServer(profileName, {
          models: [...new Set(list.map((item) => item.model))],
          round,
          sink: PROFILES[profileName].sink ? sink : null,
        });
      } catch (error) {
        log(String(error));
        for (const item of list) failures.push({ id: item.id, round, error: String(error).split('\n')[0] });
        continue;
      }
      startups.push({ profile: profileName, round, ms: server.startupMs });
      log(`round ${round} · ${profileName} ready in ${server.startupMs} ms`);
      for (const item of list) {
        try {
          const result = await measure(server, item, PROFILES[profileName].sink ? sink : null);
          raw.get(item.id).push(result);
          log(
            `  ${item.id.padEnd(32)} ${String(result.rps).padStart(7)} req/s  p99 ${result.latencyMs.p99} ms  ` +
              `errors ${result.errorCount}  cpu ${result.server.cpuCores} (${result.server.cpuUsPerRequest} µs/req)  rss ${result.server.rssPeakMb} MB` +
              `  steal ${result.server.stealPct ?? '–'} %` +
              (result.meanBatchRows ? `  batch ${result.meanBatchRows}` : ''),
          );
        } catch (error) {
          log(`  ${item.id}: ${String(error)}`);
          failures.push({ id: item.id, round, error: String(error).slice(0, 500) });
        }
      }
      await session.stop(server.child);
    }
  }
  if (sink) {
    await session.stop(sink.child);
  }

  const measured = scenarios
    .filter((item) => raw.get(item.id).length > 0)
    .map((item) => ({
      ...item,
      rounds: raw.get(item.id).length,
      ...medianOf(raw.get(item.id)),
      // Each round's headline figures: medians hide a round the VM slowed down (see steal).
      perRound: raw.get(item.id).map((result) => ({
        rps: result.rps,
        p99: result.latencyMs.p99,
        cpuUsPerRequest: result.server.cpuUsPerRequest,
        stealPct: result.server.stealPct,
      })),
    }));
  const byId = new Map(measured.map((item) => [item.id, item]));
  for (const item of measured) {
    const floor = byId.get(item.floorId);
    item.ratioToFloor =
      item.profile !== 'floor' && floor ? Math.round((item.rps / floor.rps) * 1000) / 1000 : null;
  }
  const extras =
    args['no-extras'] || !needsVigil
      ? {}
      : await runExtras({ root: ROOT, modelsDir, cpus: pinning.server, log });

  const report = {
    schemaVersion: 1,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    git: gitInfo(),
    host: {
      cores: availableParallelism(),
      cpuModel: cpus()[0]?.model ?? 'unknown',
      node: process.version,
      kernel: release(),
    },
    options: {
      durationSeconds,
      warmupSeconds,
      rounds,
      loadGenerator: generator,
      pinning,
      filter: filter?.source ?? null,
    },
    profiles: Object.fromEntries(
      profileOrder.map((name) => [
        name,
        { description: PROFILES[name].description, env: PROFILES[name].env ?? {} },
      ]),
    ),
    scenarios: measured,
    startup: {
      byProfile: Object.fromEntries(
        profileOrder.map((name) => [
          name,
          median(startups.filter((s) => s.profile === name).map((s) => s.ms)),
        ]),
      ),
    },
    extras,
    failures,
  };
  report.targets = evaluateTargets(report);

  mkdirSync(args.out, { recursive: true });
  const stamp = startedAt.toISOString().slice(0, 16).replace(/[:T]/g, '-');
  const base = join(args.out, stamp);
  writeFileSync(`${base}.json`, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(`${base}.svg`, renderSvg(report));
  writeFileSync(`${base}.md`, renderMarkdown(report, `${stamp}.svg`));
  log(`wrote ${base}.{json,md,svg}`);
  process.stdout.write(
    `${JSON.stringify({ result: `${base}.json`, scenarios: measured.length, failures: failures.length })}\n`,
  );
  return failures.length === 0 ? 0 : 1;
}

main()
  .then(async (code) => {
    await cleanup();
    process.exit(code);
  })
  .catch(async (error) => {
    log(error instanceof Error ? (error.stack ?? error.message) : String(error));
    await cleanup();
    process.exit(1);
  });
