// CPU profile of a server under load: `node bench/profile.mjs [--profile defaults] [--scenario iris-1row.c50]`.
// Starts the server (pinned, as in run.mjs) with the V8 sampling profiler preloaded, drives one
// scenario, profiles exactly the load window and writes, under bench/results/profiles/<stamp>-<profile>-<scenario>:
//   .cpuprofile  (open in Chrome DevTools › Performance, or speedscope.app)
//   .folded      (folded stacks: flamegraph.pl / inferno-flamegraph / speedscope)
//   .svg         (a flame graph drawn here)
//   .md          (top self-time functions and time per package)
// --heap: also a sampling heap profile of the window (.heapprofile + an allocation section in .md).
// --survivors (with --heap): only what survived a young collection (what gets promoted).
// Summarise an existing profile: `node bench/profile.mjs --summarize FILE.cpuprofile`.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { flameGraphSvg, foldedStacks, summarizeHeapProfile, summarizeProfile } from './lib/cpuprofile.mjs';
import { pickLoadGenerator, runLoad } from './lib/loadgen.mjs';
import { defaultPinning, startUsageSampler, waitRequestOk } from './lib/proc.mjs';
import { PROFILES, scenarioFor } from './lib/scenarios.mjs';
import { BenchSession } from './lib/servers.mjs';
import { loadSignature, makeRequests } from './lib/workload.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    profile: { type: 'string', default: 'defaults' },
    scenario: { type: 'string', default: 'iris-1row.c50' },
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    interval: { type: 'string', default: '200' },
    top: { type: 'string', default: '30' },
    loadgen: { type: 'string', default: 'auto' },
    models: { type: 'string', default: join(ROOT, 'models') },
    out: { type: 'string', default: join(ROOT, 'bench', 'results', 'profiles') },
    env: { type: 'string', multiple: true, default: [] },
    'node-arg': { type: 'string', multiple: true, default: [] },
    'no-build': { type: 'boolean', default: false },
    summarize: { type: 'string' },
    heap: { type: 'boolean', default: false },
    survivors: { type: 'boolean', default: false },
    requests: { type: 'string' },
  },
});

function summaryMarkdown(summary, heading) {
  const lines = [`# ${heading}`, ''];
  lines.push(
    `${summary.samples} samples over ${summary.wallMs} ms: busy ${summary.busyMs} ms, idle/program ${summary.idleMs} ms. ` +
      'Percentages are of busy time.',
  );
  lines.push('', '## Busy time by component', '');
  lines.push(
    'Node core and native frames are charged to the nearest package (or Vigil folder) that called them.',
    '',
  );
  lines.push('| component | ms | % |', '|---|---:|---:|');
  for (const item of summary.components) lines.push(`| ${item.component} | ${item.ms} | ${item.pct} |`);
  lines.push('', '## Self time by area', '', '| area | ms | % |', '|---|---:|---:|');
  for (const item of summary.categories) lines.push(`| ${item.category} | ${item.selfMs} | ${item.pct} |`);
  lines.push(
    '',
    '## Top functions by self time',
    '',
    '| function | where | area | self ms | self % | total % |',
  );
  lines.push('|---|---|---|---:|---:|---:|');
  for (const item of summary.functions) {
    lines.push(
      `| \`${item.name}\` | ${item.location} | ${item.category} | ${item.selfMs} | ${item.selfPct} | ${item.totalPct} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}

function heapMarkdown(summary, requests) {
  const lines = [
    '',
    args.survivors
      ? '## Survivors (sampling heap profile, objects freed by young collections left out)'
      : '## Allocation (sampling heap profile, objects collected by GC included)',
    '',
  ];
  const perRequest =
    requests > 0 ? ` ≈ ${Math.round((summary.totalMb * 1e6) / requests / 100) / 10} KB per request` : '';
  lines.push(`${summary.totalMb} MB allocated over the window${perRequest}.`, '');
  lines.push('| area | MB | % |', '|---|---:|---:|');
  for (const item of summary.categories.slice(0, 20))
    lines.push(`| ${item.category} | ${item.mb} | ${item.pct} |`);
  lines.push('', '| function | where | area | MB | % |', '|---|---|---|---:|---:|');
  for (const item of summary.functions) {
    lines.push(`| \`${item.name}\` | ${item.location} | ${item.category} | ${item.mb} | ${item.pct} |`);
  }
  return `${lines.join('\n')}\n`;
}

function writeOutputs(profile, base, heading, heap = null) {
  const summary = summarizeProfile(profile, { top: Number(args.top) });
  const folded = foldedStacks(profile);
  writeFileSync(`${base}.folded`, folded);
  writeFileSync(`${base}.svg`, flameGraphSvg(folded, { title: heading }));
  const heapSummary = heap ? summarizeHeapProfile(heap.profile, { top: Number(args.top) }) : null;
  const markdown =
    summaryMarkdown(summary, heading) + (heapSummary ? heapMarkdown(heapSummary, heap.requests) : '');
  writeFileSync(`${base}.md`, markdown);
  writeFileSync(`${base}.summary.json`, `${JSON.stringify({ ...summary, heap: heapSummary }, null, 2)}\n`);
  process.stdout.write(markdown);
  process.stderr.write(`[profile] wrote ${base}.{cpuprofile,folded,svg,md,summary.json}\n`);
}

async function waitForFile(path, timeoutMs) {
  const start = Date.now();
  while (!existsSync(path)) {
    if (Date.now() - start > timeoutMs) throw new Error(`no profile written to ${path}`);
    await new Promise((done) => setTimeout(done, 100));
  }
}

async function profileUnderLoad() {
  if (!PROFILES[args.profile])
    throw new Error(`unknown profile ${args.profile} (${Object.keys(PROFILES).join(', ')})`);
  const scenario = scenarioFor(args.profile, args.scenario);
  const modelsDir = resolve(args.models);
  const requests = makeRequests(loadSignature(modelsDir, scenario.model), {
    shape: scenario.shape,
    rowsPerRequest: scenario.rowsPerRequest,
  });
  if (PROFILES[args.profile].kind !== 'floor' && !args['no-build']) {
    const build = spawnSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
    if (build.status !== 0) throw new Error('npm run build failed');
  }
  const pinning = defaultPinning();
  const session = BenchSession.open({
    name: 'profile',
    root: ROOT,
    modelsDir,
    pinning,
    env: args.env,
    nodeArgs: args['node-arg'],
  });
  const generator = pickLoadGenerator(args.loadgen);
  const profilePath = join(session.work, 'server.cpuprofile');
  const heapPath = join(session.work, 'server.heapprofile');
  try {
    const sink = PROFILES[args.profile].sink ? await session.startSink() : null;
    const server = await session.startServer(args.profile, {
      models: [scenario.model],
      sink,
      preload: join(ROOT, 'bench', 'lib', 'profile-hook.cjs'),
      extraEnv: {
        VIGIL_CPU_PROFILE: profilePath,
        VIGIL_CPU_PROFILE_INTERVAL_US: args.interval,
        ...(args.heap ? { VIGIL_HEAP_PROFILE: heapPath } : {}),
        ...(args.heap && args.survivors ? { VIGIL_HEAP_SURVIVORS: '1' } : {}),
      },
    });
    await waitRequestOk(server.baseUrl, requests[0]);
    const load = { url: server.baseUrl, requests, connections: scenario.connections, cpus: pinning.loadgen };
    await runLoad(generator, { ...load, durationSeconds: Number(args.warmup) });
    server.child.kill('SIGUSR2');
    const sampler = startUsageSampler(server.child.pid);
    const result = await runLoad(generator, { ...load, durationSeconds: Number(args.duration) });
    const usage = sampler.stop();
    server.child.kill('SIGUSR2');
    await waitForFile(profilePath, 30_000);
    if (args.heap) await waitForFile(heapPath, 30_000);
    await session.stop(server.child);
    const heading =
      `${args.profile}.${args.scenario}: ${result.rps} req/s, p99 ${result.latencyMs.p99} ms, ` +
      `${result.errorCount} errors, server CPU ${usage.cpuCores} cores (profiler on, ${args.interval} µs sampling; ` +
      `${availableParallelism()} cores, ${generator})`;
    mkdirSync(args.out, { recursive: true });
    const stamp = new Date().toISOString().slice(0, 16).replace(/[:T]/g, '-');
    const base = join(args.out, `${stamp}-${args.profile}-${args.scenario}`);
    const text = readFileSync(profilePath, 'utf8');
    writeFileSync(`${base}.cpuprofile`, text);
    let heap = null;
    if (args.heap) {
      const heapText = readFileSync(heapPath, 'utf8');
      writeFileSync(`${base}.heapprofile`, heapText);
      heap = { profile: JSON.parse(heapText), requests: result.requests };
    }
    writeOutputs(JSON.parse(text), base, heading, heap);
  } finally {
    await session.close();
  }
}

if (args.summarize) {
  const base = args.summarize.replace(/\.cpuprofile$/, '');
  // The first line of an earlier summary keeps the run's figures as the heading.
  const previous = existsSync(`${base}.md`)
    ? readFileSync(`${base}.md`, 'utf8').split('\n')[0].replace(/^# /, '')
    : '';
  const heap = existsSync(`${base}.heapprofile`)
    ? {
        profile: JSON.parse(readFileSync(`${base}.heapprofile`, 'utf8')),
        requests: Number(args.requests ?? 0),
      }
    : null;
  writeOutputs(JSON.parse(readFileSync(args.summarize, 'utf8')), base, previous || args.summarize, heap);
} else {
  profileUnderLoad().catch((error) => {
    process.stderr.write(
      `[profile] ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  });
}
