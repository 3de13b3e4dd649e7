import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '../..');
const MAIN = join(ROOT, 'dist/main.js');
const IRIS = { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 };

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

async function until(condition: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition().catch(() => false))) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('graceful shutdown (e2e, node dist/main.js)', () => {
  let server: ChildProcess | undefined;
  let dataDir: string;
  let output = '';

  beforeAll(() => {
    if (!existsSync(MAIN))
      throw new Error(`${MAIN} is missing: run \`npm run build\` first (make test does)`);
    dataDir = mkdtempSync(join(tmpdir(), 'vigil-shutdown-'));
  });

  afterAll(() => {
    if (server?.exitCode === null) server.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('on SIGTERM: not ready, refuses new requests, finishes in-flight ones, exits 0', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    server = spawn(process.execPath, [MAIN], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        PORT: String(port),
        HOST: '127.0.0.1',
        DATA_DIR: dataDir,
        MODELS_DIR: join(ROOT, 'models'),
        // Each request waits 600 ms in the micro-batch queue: it is surely in flight at SIGTERM.
        BATCH_MAX_DELAY_MS: '600',
        SHUTDOWN_TIMEOUT_MS: '5000',
        OTEL_SDK_DISABLED: 'true',
        ACCESS_LOG: 'false',
        PREDICTION_LOG: 'false',
        EVALUATION_INTERVAL_MS: '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    server.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    server.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => server!.once('exit', (code) => resolve(code)));

    await until(async () => (await fetch(`${base}/health/ready`)).status === 200);

    const predict = () =>
      fetch(`${base}/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(IRIS),
      });
    const inFlight = Array.from({ length: 5 }, predict);
    await new Promise((resolve) => setTimeout(resolve, 200));
    server.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 100));

    const ready = await fetch(`${base}/health/ready`);
    expect(ready.status).toBe(503);
    const refused = await predict();
    expect(refused.status).toBe(503);
    expect(await refused.json()).toMatchObject({ code: 'SHUTTING_DOWN', requestId: expect.any(String) });

    const answers = await Promise.all(inFlight);
    expect(answers.map((response) => response.status)).toEqual([200, 200, 200, 200, 200]);
    const bodies = await Promise.all(
      answers.map((response) => response.json() as Promise<{ model: string }>),
    );
    expect(bodies.every((body) => body.model === 'iris')).toBe(true);

    expect(await exited).toBe(0);
    expect(output).toContain('SIGTERM received');
  }, 40_000);
});
