/**
 * Shared helpers of the reliability suite (test/e2e/reliability-*.e2e-spec.ts,
 * test/integration/fault-*.spec.ts): booting the app in-process or as a child process, forcing a
 * garbage collection to compare heaps, waiting for a state, and checking error bodies.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { connect, createServer, type Server as NetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from '../../src/app';
import { makeConfig } from '../../src/config/config';
import { CREDIT, IRIS } from '../support/instances';

export { CREDIT, IRIS };

export const ROOT = join(__dirname, '../..');
export const MODELS_DIR = join(ROOT, 'models');
export const MAIN = join(ROOT, 'dist/main.js');
export const CLI = join(ROOT, 'dist/cli.js');
export const ADMIN_TOKEN = 'reliability-admin-token-0123456789';

/** Settings every in-process reliability test starts from: quiet logs, no scheduled evaluation. */
export const QUIET = {
  LOG_LEVEL: 'warn',
  ACCESS_LOG: false,
  PREDICTION_LOG: false,
  EVALUATION_INTERVAL_MS: 0,
  OTEL_SDK_DISABLED: true,
  OTEL_TRACES_EXPORTER: 'none',
} as const;

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `vigil-${prefix}-`));
}

/** Creates, initialises and readies the app (no socket) with the committed models. */
export async function bootApp(
  overrides: Record<string, string | number | boolean | undefined>,
): Promise<NestFastifyApplication> {
  const app = await createApp(makeConfig({ MODELS_DIR, ADMIN_TOKEN, ...QUIET, ...overrides }));
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  await until(
    async () => (await app.inject({ method: 'GET', url: '/health/ready' })).statusCode === 200,
    30_000,
    'app readiness',
  );
  return app;
}

/** Polls a condition (bounded), for states reached through the event loop or another process. */
export async function until(
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (
    !(await Promise.resolve()
      .then(condition)
      .catch(() => false))
  ) {
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${timeoutMs} ms`);
    await sleep(20);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

let gcFunction: (() => void) | undefined;
/** A full garbage collection, even when node was started without --expose-gc. */
export function collectGarbage(): void {
  if (gcFunction === undefined) {
    setFlagsFromString('--expose-gc');
    gcFunction = runInNewContext('gc') as () => void;
  }
  gcFunction();
  gcFunction();
}

/** Heap used after a full collection, in bytes. */
export function heapAfterGc(): number {
  collectGarbage();
  return process.memoryUsage().heapUsed;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** A stack frame (`at fn (file:line:col)`): never in any response. */
export const STACK = /\bat [\w.<>[\]$]+ \([^()]*:\d+:\d+\)|\.[cm]?[jt]s:\d+:\d+\b/;
/** Text that must never appear in an error response: stack frames, source or install paths. */
export const LEAK =
  /\bat [\w.<>[\]$]+ \([^()]*:\d+:\d+\)|\.[cm]?[jt]s:\d+:\d+\b|node_modules|\/work\/|\/app\/dist|\/home\/|\/tmp\//;

export interface Answer {
  statusCode: number;
  body: string;
  url: string;
}

/**
 * The error body a route family answers with: Vigil's envelope everywhere, the protocol's own shape on
 * `/v2/...` (Open Inference `{error}`) and the MLflow scoring routes (`{error_code, message}`).
 * Returns a description of what is wrong, or undefined when the body is right.
 */
export function errorBodyProblem(answer: Answer): string | undefined {
  let body: unknown;
  try {
    body = JSON.parse(answer.body);
  } catch {
    return `not JSON: ${answer.body.slice(0, 200)}`;
  }
  if (typeof body !== 'object' || body === null) return `not an object: ${answer.body.slice(0, 200)}`;
  const record = body as Record<string, unknown>;
  const path = answer.url.split('?', 1)[0]!;
  if (/^\/v2(\/|$)/.test(path)) {
    return typeof record.error === 'string' ? undefined : `no Open Inference {error}: ${answer.body}`;
  }
  if (/^\/(invocations|ping|health|version)$/.test(path)) {
    return typeof record.error_code === 'string' && typeof record.message === 'string'
      ? undefined
      : `no MLflow {error_code, message}: ${answer.body}`;
  }
  return typeof record.code === 'string' &&
    typeof record.message === 'string' &&
    typeof record.requestId === 'string'
    ? undefined
    : `no {code, message, requestId} envelope: ${answer.body.slice(0, 300)}`;
}

export interface ServerProcess {
  child: ChildProcess;
  base: string;
  port: number;
  output: () => string;
  exited: Promise<number | null>;
}

/** Starts `node dist/main.js` (fails loudly when it was not built) and waits until it is ready. */
export async function startServer(
  env: Record<string, string>,
  readyTimeoutMs = 30_000,
): Promise<ServerProcess> {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` first (make test does)`);
  const port = await freePort();
  const child = spawn(process.execPath, [MAIN], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      PORT: String(port),
      HOST: '127.0.0.1',
      MODELS_DIR,
      ADMIN_TOKEN,
      OTEL_SDK_DISABLED: 'true',
      ACCESS_LOG: 'false',
      PREDICTION_LOG: 'false',
      EVALUATION_INTERVAL_MS: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const base = `http://127.0.0.1:${port}`;
  try {
    await until(
      async () => child.exitCode === null && (await fetch(`${base}/health/ready`)).status === 200,
      readyTimeoutMs,
      'server readiness',
    );
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`${(error as Error).message}; server output:\n${output.slice(-3000)}`);
  }
  return { child, base, port, output: () => output, exited };
}

/** `POST /predict` with the iris example row (extra headers, e.g. an `x-request-id`). */
export function predictIris(base: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${base}/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(IRIS),
  });
}

/** p-th percentile (0..100) of a list of numbers (nearest rank). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Sum of a metric's samples in Prometheus text, optionally only those whose labels contain `match`. */
export function metricSum(text: string, name: string, match = ''): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue;
    if (match !== '' && !rest.includes(match)) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/**
 * A TCP proxy (node:net) between the service and a real server: `cut()` drops every open connection
 * and refuses new ones until `restore()`. From the service's side that is a real connection loss,
 * without restarting the shared server other tests use.
 */
export class TcpProxy {
  private readonly sockets = new Set<Socket>();
  private server: NetServer | undefined;
  private down = false;
  port = 0;
  connections = 0;

  constructor(
    private readonly targetPort: number,
    private readonly targetHost = '127.0.0.1',
  ) {}

  async start(): Promise<number> {
    this.server = createServer((client) => {
      if (this.down) {
        client.destroy();
        return;
      }
      this.connections += 1;
      const upstream = connect(this.targetPort, this.targetHost);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    this.port = typeof address === 'object' && address !== null ? address.port : 0;
    return this.port;
  }

  cut(): void {
    this.down = true;
    for (const socket of this.sockets) socket.destroy();
  }

  restore(): void {
    this.down = false;
  }

  async stop(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
