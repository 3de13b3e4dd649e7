// Load generators behind one interface: wrk (C, preferred: it needs far less CPU per request than a
// Node client, which matters when it gets one core) or autocannon (npm) when wrk is not installed.
// Both run as pinned child processes and report the same normalised result.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hasCommand } from './proc.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));

export function pickLoadGenerator(preferred) {
  if (preferred === 'wrk' || preferred === 'autocannon') {
    if (preferred === 'wrk' && !hasCommand('wrk'))
      throw new Error('wrk is not installed (apt-get install -y wrk)');
    return preferred;
  }
  return hasCommand('wrk') ? 'wrk' : 'autocannon';
}

function luaString(text) {
  if (text.includes(']==]')) throw new Error('request body cannot be embedded in the wrk script');
  return `[==[${text}]==]`;
}

/** A wrk script that cycles through the requests and prints a JSON summary line. */
function wrkScript(requests) {
  const entries = requests
    .map(
      (request) =>
        `  { ${luaString(request.method)}, ${luaString(request.path)}, ${luaString(request.body)} },`,
    )
    .join('\n');
  return `local specs = {
${entries}
}
local prepared = {}
local counter = 0
init = function(args)
  for index, spec in ipairs(specs) do
    prepared[index] = wrk.format(spec[1], spec[2], { ["Content-Type"] = "application/json" }, spec[3])
  end
end
request = function()
  counter = counter % #prepared + 1
  return prepared[counter]
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests":%d,"durationUs":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50":%d,"p90":%d,"p95":%d,"p99":%d,"max":%d,"mean":%.1f}\\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(95), latency:percentile(99),
    latency.max, latency.mean))
end
`;
}

function run(command, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

const round = (value, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;

async function runWrk({ url, requests, connections, durationSeconds, cpus, timeoutSeconds }) {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-wrk-'));
  try {
    const script = join(dir, 'requests.lua');
    writeFileSync(script, wrkScript(requests));
    const args = [
      '-t1',
      `-c${connections}`,
      `-d${Math.max(1, Math.round(durationSeconds))}s`,
      `--timeout`,
      `${timeoutSeconds}s`,
      '-s',
      script,
      url,
    ];
    const { code, stdout, stderr } = await (cpus
      ? run('taskset', ['-c', cpus, 'wrk', ...args])
      : run('wrk', args));
    const line = stdout.split('\n').find((text) => text.startsWith('WRK_RESULT '));
    if (code !== 0 || !line) throw new Error(`wrk failed (exit ${code}): ${stderr || stdout}`);
    const raw = JSON.parse(line.slice('WRK_RESULT '.length));
    const seconds = raw.durationUs / 1e6;
    const errors = {
      connect: raw.connect,
      read: raw.read,
      write: raw.write,
      timeout: raw.timeout,
      status: raw.status,
    };
    return {
      requests: raw.requests,
      durationSeconds: round(seconds, 3),
      rps: round(raw.requests / seconds, 0),
      latencyMs: {
        p50: round(raw.p50 / 1000, 3),
        p90: round(raw.p90 / 1000, 3),
        p95: round(raw.p95 / 1000, 3),
        p99: round(raw.p99 / 1000, 3),
        max: round(raw.max / 1000, 3),
        mean: round(raw.mean / 1000, 3),
      },
      errors,
      errorCount: Object.values(errors).reduce((sum, value) => sum + value, 0),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function runAutocannon({ url, requests, connections, durationSeconds, cpus, timeoutSeconds }) {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-autocannon-'));
  try {
    const config = join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({ url, requests, connections, durationSeconds, timeoutSeconds }));
    const runner = join(HERE, 'autocannon-runner.mjs');
    const node = process.execPath;
    const { code, stdout, stderr } = await (cpus
      ? run('taskset', ['-c', cpus, node, runner, config])
      : run(node, [runner, config]));
    if (code !== 0) throw new Error(`autocannon failed (exit ${code}): ${stderr}`);
    return JSON.parse(stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * One load window against `url` (base URL; each request carries its own path).
 * @returns {{requests, durationSeconds, rps, latencyMs: {p50,p90,p95,p99,max,mean}, errors, errorCount}}
 */
export async function runLoad(generator, options) {
  const withDefaults = { timeoutSeconds: 5, ...options };
  return generator === 'wrk' ? runWrk(withDefaults) : runAutocannon(withDefaults);
}
