import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from '../../src/app';
import { buildCli } from '../../src/cli';
import { makeConfig } from '../../src/config/config';
import { writeModelFolder } from '../integration/registry-fixtures';

const TOKEN = 'cli-e2e-admin-token-0123456789';

/** `vigil models … --server URL` against a listening server: the HTTP client of the CLI. */
describe('vigil models / runs against a running server (e2e)', () => {
  let app: NestFastifyApplication;
  let dataDir: string;
  let server: string;
  let printed: string[];

  async function vigil(...args: string[]): Promise<string> {
    printed = [];
    const log = jest
      .spyOn(console, 'log')
      .mockImplementation((line: unknown) => void printed.push(String(line)));
    try {
      await buildCli()
        .exitOverride()
        .parseAsync(['node', 'vigil', ...args, '--server', server, '--token', TOKEN]);
    } finally {
      log.mockRestore();
    }
    return printed.join('\n');
  }

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'vigil-registry-cli-'));
    writeModelFolder(join(dataDir, 'models'), 'tiny', 0.8);
    writeModelFolder(join(dataDir, 'candidate'), 'tiny', 0.9);
    app = await createApp(
      makeConfig({
        DATA_DIR: dataDir,
        MODELS_DIR: join(dataDir, 'models'),
        ADMIN_TOKEN: TOKEN,
        LOG_LEVEL: 'error',
        PORT: 0,
      }),
    );
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.getHttpServer().address() as AddressInfo;
    server = `http://127.0.0.1:${address.port}`;
  });
  afterAll(async () => {
    await app.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('lists models as a table and as JSON', async () => {
    const table = await vigil('models', 'list');
    expect(table).toMatch(/model\s+production\s+latest/);
    expect(table).toMatch(/tiny\s+1\s+1\s+1/);
    const json = JSON.parse(await vigil('models', 'list', '--json'));
    expect(json).toEqual([expect.objectContaining({ name: 'tiny', productionVersion: 1 })]);
  });

  it('registers a folder, promotes it, rolls back, and shows the audit trail', async () => {
    expect(
      await vigil('models', 'register', join(dataDir, 'candidate', 'tiny'), '--stage', 'staging'),
    ).toMatch(/^Registered tiny v2 \(Staging\), sha256 [0-9a-f]{64}$/);
    expect(await vigil('models', 'promote', 'tiny', '2', '--reason', 'better')).toBe(
      'tiny v2 is now Production',
    );
    expect(await vigil('models', 'rollback', 'tiny', '--reason', 'oops')).toBe('tiny v1 is Production again');
    const audit = await vigil('models', 'audit', 'tiny', '--limit', '3');
    expect(audit).toMatch(/admin:\S+\s+rollback\s+tiny\s+1\s+Archived → Production\s+oops/);
    const show = await vigil('models', 'show', 'tiny', 'production');
    expect(show).toMatch(/stage\s+Production/);
    expect(show).toMatch(/primary metric\s+roc_auc = 0.8/);
  });

  it('fails with the server error code', async () => {
    await expect(vigil('models', 'promote', 'tiny', '9')).rejects.toMatchObject({
      code: 'VERSION_NOT_FOUND',
    });
  });

  it('compares runs sorted by a metric', async () => {
    const table = await vigil('runs', 'compare', '--metric', 'roc_auc');
    expect(table).toMatch(/run\s+experiment\s+status\s+started\s+roc_auc/);
    expect(table).toMatch(/tiny\s+FINISHED\s+\S+ \S+\s+0.8/);
  });
});
