// Starting the servers under test: the fake Elasticsearch/OTLP sink, the floor, Vigil (one process or
// the cluster entry). Shared by run.mjs, profile.mjs and memwatch.mjs.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROFILES } from './scenarios.mjs';
import { freePort, spawnPinned, stopProcess, waitHttpOk } from './proc.mjs';

/** `--env KEY=VALUE` options as an environment object (the value may contain `=`). */
function envFromPairs(pairs) {
  return Object.fromEntries(
    pairs.map((pair) => {
      const index = pair.indexOf('=');
      if (index <= 0) throw new Error(`--env expects KEY=VALUE, got ${pair}`);
      return [pair.slice(0, index), pair.slice(index + 1)];
    }),
  );
}

/**
 * A session owns a temporary directory and every child it started, so that one `close()` (also on
 * Ctrl-C) stops them all.
 */
export class BenchSession {
  constructor({
    root,
    work,
    modelsDir,
    pinning,
    nodeArgs = [],
    extraEnv = {},
    floorArgs = [],
    serverStdout = null,
  }) {
    Object.assign(this, { root, work, modelsDir, pinning, nodeArgs, extraEnv, floorArgs, serverStdout });
    this.running = new Set();
    /** Each Vigil child's DATA_DIR, removed when it stops. */
    this.dataDirs = new Map();
  }

  /** A session in a new temporary directory `vigil-<name>-*`, from a script's `--env` pairs. */
  static open({
    name,
    root,
    modelsDir,
    pinning,
    env = [],
    nodeArgs = [],
    floorArgs = [],
    serverStdout = null,
  }) {
    const work = mkdtempSync(join(tmpdir(), `vigil-${name}-`));
    return new BenchSession({
      root,
      work,
      modelsDir,
      pinning,
      nodeArgs,
      extraEnv: envFromPairs(env),
      floorArgs,
      serverStdout,
    });
  }

  track(child) {
    this.running.add(child);
    void child.exited.then(() => this.running.delete(child));
    return child;
  }

  /**
   * Stops a child and removes its DATA_DIR. A round of credit 100-row requests writes ~0.9 GB (WAL
   * and database file); left on disk, it was written back by the kernel (dirty pages expire after
   * 30 s) while a later round was measured, and the third of three rounds served 6–15 % fewer requests.
   */
  async stop(child, graceMs) {
    await stopProcess(child, graceMs);
    this.running.delete(child);
    const dataDir = this.dataDirs.get(child);
    if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
    this.dataDirs.delete(child);
  }

  /** Stops every child, then removes the temporary directory. */
  async close() {
    await Promise.all([...this.running].map((child) => stopProcess(child, 2000)));
    rmSync(this.work, { recursive: true, force: true });
  }

  async startSink() {
    const port = await freePort();
    const child = this.track(
      spawnPinned(process.execPath, [join(this.root, 'bench', 'sink-server.mjs'), '--port', String(port)], {
        cpus: this.pinning.loadgen,
        env: { PATH: process.env.PATH },
        stderrFile: join(this.work, 'sink.stderr.log'),
      }),
    );
    await waitHttpOk(`http://127.0.0.1:${port}/_sink/stats`, { child, timeoutMs: 10_000 });
    return { child, url: `http://127.0.0.1:${port}` };
  }

  /**
   * Starts one server of `profileName` serving `models`, waits for `/health/ready` and returns
   * `{ child, baseUrl, startupMs, stderrFile }`. `preload` is a CommonJS file for `--require`.
   */
  async startServer(profileName, { models, round = 1, sink = null, preload = null, extraEnv = {} }) {
    const profile = PROFILES[profileName];
    const port = await freePort();
    const stderrFile = join(this.work, `${profileName}-${round}.stderr.log`);
    const cpus = profile.unpinned ? null : this.pinning.server;
    const nodeFlags = preload ? ['--require', preload] : [];
    let argv;
    let env;
    if (profile.kind === 'floor') {
      argv = [
        ...nodeFlags,
        join(this.root, 'bench', 'floor-server.mjs'),
        '--port',
        String(port),
        '--models',
        this.modelsDir,
        ...models.flatMap((name) => ['--model', name]),
        ...this.floorArgs,
      ];
      env = { PATH: process.env.PATH, NODE_ENV: 'production', ...extraEnv };
    } else {
      const entry = join(this.root, 'dist', profile.kind === 'cluster' ? 'cluster.js' : 'main.js');
      if (!existsSync(entry))
        throw new Error(`${entry} does not exist (build first, or nobody built it yet)`);
      const dataDir = join(this.work, `data-${profileName}-${round}`);
      mkdirSync(dataDir, { recursive: true });
      // As the image starts it (Dockerfile `CMD`): two V8 helper threads, not four.
      argv = ['--v8-pool-size=2', ...this.nodeArgs, ...nodeFlags, entry];
      env = {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        NODE_ENV: 'production',
        PORT: String(port),
        HOST: '127.0.0.1',
        DATA_DIR: dataDir,
        MODELS_DIR: this.modelsDir,
        VIGIL_ENV: 'production',
        OTEL_SERVICE_NAME: 'vigil',
        // As the image sets it (Dockerfile `ENV MALLOC_ARENA_MAX`): the bench measures the shipped runtime.
        MALLOC_ARENA_MAX: '2',
        ...(profile.kind === 'cluster' ? { WORKERS: String(this.pinning.cores) } : {}),
        ...(sink ? { OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, ELASTICSEARCH_URL: sink.url } : {}),
        ...profile.env,
        ...this.extraEnv,
        ...extraEnv,
      };
    }
    // The cluster primary's own lines tell when every worker listens (/health/ready answers with the first).
    // `serverStdout` keeps a server's stdout (e.g. V8's `--trace-gc` lines; send the logs to stderr then).
    const stdoutFile =
      profile.kind === 'cluster'
        ? join(this.work, `${profileName}-${round}.stdout.log`)
        : (this.serverStdout ?? '/dev/null');
    const since = performance.now();
    const child = this.track(
      spawnPinned(process.execPath, argv, { cpus, env, cwd: this.root, stderrFile, stdoutFile }),
    );
    if (env.DATA_DIR !== undefined) this.dataDirs.set(child, env.DATA_DIR);
    const baseUrl = `http://127.0.0.1:${port}`;
    try {
      let startupMs = await waitHttpOk(`${baseUrl}/health/ready`, { child, since, timeoutMs: 60_000 });
      if (profile.kind === 'cluster')
        startupMs = await waitForLine(stdoutFile, '"cluster-ready"', since, child);
      return { child, baseUrl, startupMs: Math.round(startupMs), stderrFile };
    } catch (error) {
      await this.stop(child, 2000);
      const stderr = existsSync(stderrFile) ? readFileSync(stderrFile, 'utf8').slice(-2000) : '';
      throw new Error(`${profileName} did not start: ${String(error)}\n${stderr}`);
    }
  }
}

async function waitForLine(file, needle, since, child, timeoutMs = 90_000) {
  for (;;) {
    if (existsSync(file) && readFileSync(file, 'utf8').includes(needle)) return performance.now() - since;
    if (child.exitCode !== null) throw new Error(`server exited before ${needle}`);
    if (performance.now() - since > timeoutMs) throw new Error(`no ${needle} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export async function sinkStats(sink) {
  if (!sink) return null;
  const response = await fetch(`${sink.url}/_sink/stats`);
  return response.json();
}
