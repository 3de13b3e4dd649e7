// Processes for the benchmark: spawn pinned to cores, wait until ready, sample CPU and RSS from /proc
// (the whole process tree, so cluster workers count), stop with a bounded grace period.
import { spawn, spawnSync } from 'node:child_process';
import { openSync, closeSync, readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism } from 'node:os';

const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

export function hasCommand(name) {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

/** Where the server and the load generator run: separate cores when there are at least two. */
export function defaultPinning() {
  const cores = availableParallelism();
  if (cores < 2 || !hasCommand('taskset')) return { server: null, loadgen: null, cores };
  // Server alone on core 1; load generator (and the sink) on the rest.
  return { server: '1', loadgen: cores === 2 ? '0' : `0,2-${cores - 1}`, cores };
}

export async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Spawns `command args` (pinned with taskset when `cpus` is given; taskset execs, so the pid is the
 * program's). stdout goes to `stdoutFile` (default /dev/null: the cheapest sink, see docs), stderr to
 * `stderrFile`.
 */
export function spawnPinned(
  command,
  args,
  { cpus, env, cwd, stdoutFile = '/dev/null', stderrFile = '/dev/null' },
) {
  const out = openSync(stdoutFile, 'a');
  const err = openSync(stderrFile, 'a');
  const [file, argv] = cpus ? ['taskset', ['-c', cpus, command, ...args]] : [command, args];
  const child = spawn(file, argv, { env, cwd, stdio: ['ignore', out, err] });
  closeSync(out);
  closeSync(err);
  child.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return child;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `url` until it answers 200; returns the ms since `since`. Throws on timeout or early exit. */
export async function waitHttpOk(
  url,
  { child, since = performance.now(), timeoutMs = 30_000, intervalMs = 20 },
) {
  let exited = null;
  void child?.exited.then((status) => {
    exited = status;
  });
  for (;;) {
    if (exited) throw new Error(`server exited before ready (code ${exited.code}, signal ${exited.signal})`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await response.arrayBuffer();
      if (response.status === 200) return performance.now() - since;
    } catch {
      // not listening yet
    }
    if (performance.now() - since > timeoutMs) throw new Error(`${url} not ready after ${timeoutMs} ms`);
    await sleep(intervalMs);
  }
}

/** Sends `request` until it answers 2xx (models may load after the port opens). */
export async function waitRequestOk(baseUrl, request, { timeoutMs = 15_000 } = {}) {
  const start = performance.now();
  let last = '';
  for (;;) {
    try {
      const response = await fetch(baseUrl + request.path, {
        method: request.method,
        headers: { 'content-type': 'application/json' },
        body: request.body,
        signal: AbortSignal.timeout(2000),
      });
      last = `${response.status} ${(await response.text()).slice(0, 300)}`;
      if (response.status >= 200 && response.status < 300) return;
    } catch (error) {
      last = String(error);
    }
    if (performance.now() - start > timeoutMs) throw new Error(`${request.path} never succeeded: ${last}`);
    await sleep(100);
  }
}

export async function stopProcess(child, graceMs = 5000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await child.exited;
  clearTimeout(timer);
}

function readStat(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may contain spaces: fields start after the last ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return null;
  }
}

/** `pid` and all its descendants (cluster workers). */
export function processTree(pid) {
  const parents = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(entry);
    if (stat) parents.set(Number(entry), stat.ppid);
  }
  const tree = [pid];
  for (let index = 0; index < tree.length; index += 1) {
    for (const [child, parent] of parents) if (parent === tree[index]) tree.push(child);
  }
  return tree;
}

/** CPU seconds (user + system) used so far by these processes. */
export function cpuSeconds(pids) {
  let ticks = 0;
  for (const pid of pids) ticks += readStat(pid)?.ticks ?? 0;
  return ticks / CLOCK_TICKS;
}

export function rssBytes(pids) {
  let total = 0;
  for (const pid of pids) {
    try {
      const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (match) total += Number(match[1]) * 1024;
    } catch {
      // exited
    }
  }
  return total;
}

/** The machine's CPU time so far (`/proc/stat`, every CPU): all states and steal, in ticks. */
export function machineTicks() {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal (guest time is already in user).
    return { total: fields.slice(0, 8).reduce((sum, value) => sum + value, 0), steal: fields[7] ?? 0 };
  } catch {
    return null;
  }
}

/**
 * Percentage of the machine's CPU time the hypervisor gave to someone else between two readings:
 * on a shared VM a window with steal is slower for every server alike, and tail latencies suffer most.
 */
export function stealPercent(start, end) {
  if (!start || !end || end.total <= start.total) return null;
  return Math.round(((end.steal - start.steal) / (end.total - start.total)) * 1000) / 10;
}

/** Samples RSS every `intervalMs` and CPU at start/stop, for one measurement window. */
export function startUsageSampler(pid, intervalMs = 250) {
  const pids = processTree(pid);
  const machineStart = machineTicks();
  const cpuStart = cpuSeconds(pids);
  const wallStart = performance.now();
  const samples = [rssBytes(pids)];
  const timer = setInterval(() => samples.push(rssBytes(pids)), intervalMs);
  return {
    stop() {
      clearInterval(timer);
      samples.push(rssBytes(pids));
      const wallSeconds = (performance.now() - wallStart) / 1000;
      const cpu = cpuSeconds(pids) - cpuStart;
      const mb = (bytes) => Math.round((bytes / 1_048_576) * 10) / 10;
      return {
        processes: pids.length,
        cpuSeconds: Math.round(cpu * 100) / 100,
        cpuCores: Math.round((cpu / wallSeconds) * 100) / 100,
        rssPeakMb: mb(Math.max(...samples)),
        rssMeanMb: mb(samples.reduce((sum, value) => sum + value, 0) / samples.length),
        stealPct: stealPercent(machineStart, machineTicks()),
      };
    },
  };
}
