/**
 * `kill -9` of the server in the middle of registrations and promotions: after each kill the registry is consistent (every version row has its intact
 * artifact, exactly one Production version) and a server started on the same data serves.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import {
  ADMIN_TOKEN,
  CLI,
  MODELS_DIR,
  predictIris,
  ROOT,
  sleep,
  startServer,
  tempDir,
} from '../reliability/harness';

interface VersionRow {
  version: number;
  stage: string;
  sha256: string;
}

describe('kill -9 during registration and promotion (node dist/main.js, SQLite store)', () => {
  let dataDir: string;
  let trainedDir: string;
  const env = (): NodeJS.ProcessEnv => ({
    PATH: process.env.PATH,
    DATA_DIR: dataDir,
    MODELS_DIR,
    OTEL_SDK_DISABLED: 'true',
    LOG_LEVEL: 'error',
  });

  beforeAll(() => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first (make test does)`);
    dataDir = tempDir('fault-kill');
    trainedDir = tempDir('fault-kill-model');
    const trained = spawnSync(
      process.execPath,
      [
        CLI,
        'train',
        '--dataset',
        'iris',
        '--algorithm',
        'logreg',
        '--seed',
        '11',
        '--out',
        trainedDir,
        '--no-progress',
      ],
      { cwd: ROOT, encoding: 'utf8' },
    );
    if (trained.status !== 0) throw new Error(`training failed: ${trained.stderr}`);
    // Bootstrap the registry (iris v1 and credit v1 in Production).
    const listed = spawnSync(process.execPath, [CLI, 'models', 'list', '--json'], {
      cwd: ROOT,
      env: env(),
      encoding: 'utf8',
    });
    if (listed.status !== 0) throw new Error(`bootstrap failed: ${listed.stderr}`);
  }, 60_000);

  afterAll(() => {
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(trainedDir, { recursive: true, force: true });
  });

  /** The invariants a crash must never break. */
  function checkConsistent(): VersionRow[] {
    const database = new Database(join(dataDir, 'vigil.db'), { readonly: true });
    try {
      const rows = database
        .prepare(
          "SELECT version, stage, sha256 FROM model_versions WHERE model_name = 'iris' ORDER BY version",
        )
        .all() as VersionRow[];
      expect(rows.filter((row) => row.stage === 'Production')).toHaveLength(1);
      for (const row of rows) {
        const file = join(dataDir, 'artifacts', row.sha256);
        expect({ version: row.version, exists: existsSync(file) }).toEqual({
          version: row.version,
          exists: true,
        });
        expect(createHash('sha256').update(readFileSync(file)).digest('hex')).toBe(row.sha256);
      }
      const integrity = database.pragma('integrity_check', { simple: true });
      expect(integrity).toBe('ok');
      return rows;
    } finally {
      database.close();
    }
  }

  /** Starts a server on the store, sends one admin request, kills it -9 `delayMs` after sending. */
  async function killDuring(request: (base: string) => Promise<Response>, delayMs: number): Promise<string> {
    const server = await startServer({ DATA_DIR: dataDir, REGISTRY_POLL_INTERVAL_MS: '60000' });
    const answer = request(server.base).then(
      (response) => `answered ${response.status}`,
      () => 'killed before answering',
    );
    await sleep(delayMs);
    server.child.kill('SIGKILL');
    await server.exited;
    return answer;
  }

  const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
  const register = (base: string): Promise<Response> => {
    const form = new FormData();
    for (const part of ['model.onnx', 'signature.json', 'metrics.json', 'reference.json'])
      form.append(part.split('.')[0]!, new Blob([readFileSync(join(trainedDir, part))]), part);
    form.append('stage', 'Production');
    form.append('force', 'true');
    form.append('reason', 'kill -9 test');
    return fetch(`${base}/v1/models/iris/versions`, { method: 'POST', headers: auth, body: form });
  };
  const promote = (version: number) => (base: string) =>
    fetch(`${base}/v1/models/iris/versions/${version}/stage`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ stage: 'Production', force: true, reason: 'kill -9 test' }),
    });

  // Milliseconds between sending the request and kill -9: validation (ONNX load), artifact write and
  // the database transaction all happen within the first tens of milliseconds.
  const REGISTER_DELAYS = [10, 25, 35, 45, 60];
  const PROMOTE_DELAYS = [1, 4, 7, 10, 14];
  const outcomes: string[] = [];

  it(`registration (stage Production) killed ${REGISTER_DELAYS.length} times mid-request: never a half version or two Production versions`, async () => {
    for (const delay of REGISTER_DELAYS) {
      const answer = await killDuring(register, delay);
      const rows = checkConsistent();
      outcomes.push(`register +${delay}ms: ${answer}, ${rows.length} versions`);
    }
  }, 90_000);

  it(`promotion killed ${PROMOTE_DELAYS.length} times mid-request: exactly one Production version every time`, async () => {
    const production = (): number => checkConsistent().find((row) => row.stage === 'Production')!.version;
    for (const delay of PROMOTE_DELAYS) {
      const versions = checkConsistent().map((row) => row.version);
      const target =
        versions.filter((version) => version !== production())[delay % Math.max(1, versions.length - 1)] ?? 1;
      const answer = await killDuring(promote(target), delay);
      outcomes.push(`promote v${target} +${delay}ms: ${answer}, v${production()} in Production`);
    }
    process.stdout.write(`kill -9 outcomes: ${outcomes.join('; ')}\n`);
  }, 90_000);

  it('a server started on the crashed store is ready and serves the Production version', async () => {
    const production = checkConsistent().find((row) => row.stage === 'Production')!.version;
    const server = await startServer({ DATA_DIR: dataDir });
    try {
      const response = await predictIris(server.base);
      expect(response.status).toBe(200);
      expect(((await response.json()) as { version: number }).version).toBe(production);
    } finally {
      server.child.kill('SIGKILL');
      await server.exited;
    }
  }, 60_000);
});
