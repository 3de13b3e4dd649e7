// Memory and GC of a server under load: `node bench/memwatch.mjs [--profile defaults] [--scenario iris-100rows.c16]`.
// Starts the server pinned like run.mjs, drives one scenario and samples, every second, its RSS (anonymous and
// file-backed, from /proc) and V8 heap (total / used, external) from its own /metrics, plus the queues that hold
// memory (prediction store, log shipping); at the end, the GC pauses of the window by kind (count, mean, max
// bucket), each thread's CPU and wait for the core, and the event-loop delay. This is how
// docs/performance.md found where the RSS went (pass 4), what the event loop waits for (pass 8) and what its
// stalls are made of (pass 10).
//   --env KEY=VALUE (repeatable)   --node-arg ARG (repeatable, e.g. --heap-growing-percent=50)
//   --duration S (10)  --warmup S (2)  --no-build
//   --server-stdout FILE: keep the server's stdout, e.g. with --node-arg=--trace-incremental-marking
//     --node-arg=--trace-gc --env LOG_STREAM=stderr (V8 writes its traces to stdout)
//   --stalls: also the event loop's stalls over 4 ms in the window (lib/stall-hook.cjs): how many a
//     second, and how much of them the main thread ran, waited for the core, or spent in GC pauses
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { pickLoadGenerator, runLoad } from './lib/loadgen.mjs';
import { defaultPinning, waitRequestOk } from './lib/proc.mjs';
import { PROFILES, scenarioFor } from './lib/scenarios.mjs';
import { stallTable } from './lib/stalls.mjs';
import { BenchSession } from './lib/servers.mjs';
import { loadSignature, makeRequests } from './lib/workload.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    profile: { type: 'string', default: 'defaults' },
    scenario: { type: 'string', default: 'iris-100rows.c16' },
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    env: { type: 'string', multiple: true, default: [] },
    'node-arg': { type: 'string', multiple: true, default: [] },
    'no-build': { type: 'boolean', default: false },
    'server-stdout': { type: 'string' },
    stalls: { type: 'boolean', default: false },
  },
});

const SAMPLED = {
  rss: 'process_resident_memory_bytes',
  heapTotal: 'nodejs_heap_size_total_bytes',
  heapUsed: 'nodejs_heap_size_used_bytes',
  external: 'nodejs_external_memory_bytes',
  storeQueue: 'vigil_prediction_store_queue_rows',
  logQueue: 'vigil_log_queue_events',
};

/** `name{labels} value` lines of a Prometheus exposition, summed per metric name over label sets. */
function sums(text) {
  const out = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const name = line.slice(0, line.search(/[{ ]/));
    out.set(name, (out.get(name) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return out;
}

/** GC pause count and seconds per kind, and the largest bucket bound reached, from the histogram. */
function gcByKind(text) {
  const kinds = new Map();
  for (const line of text.split('\n')) {
    const match =
      /^nodejs_gc_duration_seconds_(count|sum|bucket)\{(?:le="([^"]+)",)?kind="(\w+)"\} (\S+)/.exec(line);
    if (match === null) continue;
    const [, part, le, kind, value] = match;
    const entry = kinds.get(kind) ?? { count: 0, seconds: 0, buckets: [] };
    if (part === 'count') entry.count = Number(value);
    else if (part === 'sum') entry.seconds = Number(value);
    else entry.buckets.push([le === '+Inf' ? Infinity : Number(le), Number(value)]);
    kinds.set(kind, entry);
  }
  return kinds;
}

/** A numeric field of a `/proc/…/status` text (`NaN` when absent). */
function statusField(text, field) {
  return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(text)?.[1] ?? NaN);
}

function procStatus(pid) {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  return { anon: statusField(text, 'RssAnon') / 1024, file: statusField(text, 'RssFile') / 1024 };
}

/** CPU ticks (user + system) and context switches of each thread of `pid`, by thread id. */
function threadTimes(pid) {
  const threads = new Map();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      // comm is in parentheses and may hold spaces; the fields after it are space-separated.
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const status = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
      // schedstat: ns on the CPU, ns runnable but waiting for it, timeslices.
      const waitingNs = Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[1]);
      threads.set(tid, {
        name,
        ticks: Number(fields[11]) + Number(fields[12]),
        preempted: statusField(status, 'nonvoluntary_ctxt_switches'),
        waitingNs,
      });
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return threads;
}

/**
 * Per thread, busiest first: CPU ms, involuntary switches and ms runnable but waiting for a core, each
 * per second of the window. Node names none of its threads (libuv pool, V8 platform workers,
 * worker_threads): the id tells them apart (right after main come V8's platform workers, then libuv's
 * pool; a worker started later, such as the store's writer, has a higher id).
 */
function threadTable(pid, before, after, seconds) {
  const tick = 1000 / 100; // USER_HZ is 100 on Linux
  return [...after]
    .map(([tid, end]) => {
      const start = before.get(tid) ?? { ticks: 0, preempted: 0, waitingNs: 0 };
      return {
        name: tid === String(pid) ? `${end.name} (main)` : `${end.name} ${tid}`,
        ms: (end.ticks - start.ticks) * tick,
        preempted: end.preempted - start.preempted,
        waitingMs: (end.waitingNs - start.waitingNs) / 1e6,
      };
    })
    .filter((thread) => thread.ms > 0 || thread.preempted > 0)
    .sort((a, b) => b.ms - a.ms)
    .map(
      (thread) =>
        `| ${thread.name} | ${(thread.ms / seconds).toFixed(0)} | ${(thread.preempted / seconds).toFixed(0)} | ` +
        `${(thread.waitingMs / seconds).toFixed(0)} |`,
    );
}

const mb = (bytes) => (bytes === undefined ? '–' : (bytes / 1048576).toFixed(0));

async function main() {
  if (!PROFILES[args.profile] || PROFILES[args.profile].kind !== 'vigil')
    throw new Error(`--profile must be a Vigil profile (${Object.keys(PROFILES).join(', ')})`);
  const scenario = scenarioFor(args.profile, args.scenario);
  if (!args['no-build']) {
    const build = spawnSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
    if (build.status !== 0) throw new Error('npm run build failed');
  }
  const modelsDir = join(ROOT, 'models');
  const requests = makeRequests(loadSignature(modelsDir, scenario.model), {
    shape: scenario.shape,
    rowsPerRequest: scenario.rowsPerRequest,
  });
  const pinning = defaultPinning();
  const stallDir = args.stalls ? mkdtempSync(join(tmpdir(), 'vigil-stalls-')) : null;
  const stallFile = stallDir === null ? null : join(stallDir, 'stalls.json');
  const session = BenchSession.open({
    name: 'memwatch',
    root: ROOT,
    modelsDir,
    pinning,
    env: stallFile === null ? args.env : [...args.env, `STALL_HOOK_FILE=${stallFile}`],
    nodeArgs:
      stallFile === null
        ? args['node-arg']
        : [...args['node-arg'], `--require=${join(ROOT, 'bench', 'lib', 'stall-hook.cjs')}`],
    serverStdout: args['server-stdout'] ? resolve(args['server-stdout']) : null,
  });
  try {
    const sink = PROFILES[args.profile].sink ? await session.startSink() : null;
    const server = await session.startServer(args.profile, { models: [scenario.model], sink });
    const scrape = async () => (await fetch(`${server.baseUrl}/metrics`)).text();
    await waitRequestOk(server.baseUrl, requests[0]);
    const load = { url: server.baseUrl, requests, connections: scenario.connections, cpus: pinning.loadgen };
    const generator = pickLoadGenerator('auto');
    await runLoad(generator, { ...load, durationSeconds: Number(args.warmup) });
    const before = await scrape();
    const samples = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const metrics = sums(await scrape());
        const row = { ...procStatus(server.child.pid) };
        for (const [key, name] of Object.entries(SAMPLED)) row[key] = metrics.get(name);
        samples.push(row);
        await new Promise((done) => setTimeout(done, 1000));
      }
    })();
    const threadsBefore = threadTimes(server.child.pid);
    const windowStart = Date.now();
    const result = await runLoad(generator, { ...load, durationSeconds: Number(args.duration) });
    const windowEnd = Date.now();
    const threadsAfter = threadTimes(server.child.pid);
    sampling = false;
    await sampler;
    const after = await scrape();
    await session.stop(server.child);

    const lines = [
      `# ${args.profile}.${args.scenario}: ${result.rps} req/s, p50 ${result.latencyMs.p50} ms, p99 ${result.latencyMs.p99} ms, ` +
        `${result.requests} requests` +
        (args['node-arg'].length > 0 ? ` · node ${args['node-arg'].join(' ')}` : '') +
        (args.env.length > 0 ? ` · ${args.env.join(' ')}` : ''),
      '',
      '| s | RSS MB | anon | file | heap total | heap used | external | store queue rows | log queue events |',
      '|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
      ...samples.map(
        (row, index) =>
          `| ${index + 1} | ${mb(row.rss)} | ${row.anon.toFixed(0)} | ${row.file.toFixed(0)} | ${mb(row.heapTotal)} | ` +
          `${mb(row.heapUsed)} | ${mb(row.external)} | ${row.storeQueue ?? '–'} | ${row.logQueue ?? '–'} |`,
      ),
      '',
      '| GC kind | pauses | mean ms | µs per request | longest ≤ (s) |',
      '|---|---:|---:|---:|---:|',
    ];
    const start = gcByKind(before);
    for (const [kind, end] of gcByKind(after)) {
      const count = end.count - (start.get(kind)?.count ?? 0);
      const seconds = end.seconds - (start.get(kind)?.seconds ?? 0);
      if (count === 0) continue;
      // The smallest bucket bound that holds every pause of the window.
      const startBuckets = new Map(start.get(kind)?.buckets ?? []);
      const longest = end.buckets.find(([le, value]) => value - (startBuckets.get(le) ?? 0) === count)?.[0];
      lines.push(
        `| ${kind} | ${count} | ${((seconds * 1000) / count).toFixed(2)} | ${((seconds * 1e6) / result.requests).toFixed(1)} | ${longest} |`,
      );
    }
    lines.push(
      '',
      '| thread | CPU ms/s | preempted /s | runnable, waiting ms/s |',
      '|---|---:|---:|---:|',
      ...threadTable(server.child.pid, threadsBefore, threadsAfter, Number(args.duration)),
    );
    const lag = sums(after);
    lines.push(
      '',
      `Event-loop delay since start: p99 ${(lag.get('nodejs_eventloop_lag_p99_seconds') * 1000).toFixed(1)} ms, ` +
        `max ${(lag.get('nodejs_eventloop_lag_max_seconds') * 1000).toFixed(1)} ms.`,
    );
    if (stallFile !== null) {
      const { stalls } = JSON.parse(readFileSync(stallFile, 'utf8'));
      lines.push(
        '',
        '| stall | per s | ms per s | main thread ran | of which GC pauses | waited for a core |',
        '|---|---:|---:|---:|---:|---:|',
        ...stallTable(stalls, windowStart, windowEnd),
      );
    }
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await session.close();
    if (stallDir !== null) rmSync(stallDir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  process.stderr.write(
    `[memwatch] ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
