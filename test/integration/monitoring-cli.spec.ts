import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCli } from '../../src/cli';

/** `vigil report` / `vigil evaluate` on a local store (the committed models are imported at first start). */
describe('vigil report and evaluate (local store)', () => {
  let dataDir: string;
  const saved = { ...process.env };
  let logged: string[] = [];

  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'vigil-monitoring-cli-'));
    Object.assign(process.env, {
      DATA_DIR: dataDir,
      MODELS_DIR: join(__dirname, '../../models'),
      LOG_LEVEL: 'error',
      ACCESS_LOG: 'false',
    });
    delete process.env.DATABASE_URL;
  });
  beforeEach(() => {
    logged = [];
    jest.spyOn(console, 'log').mockImplementation((line: unknown) => void logged.push(String(line)));
  });
  afterEach(() => jest.restoreAllMocks());
  afterAll(() => {
    process.env = saved;
    rmSync(dataDir, { recursive: true, force: true });
  });

  const run = (...args: string[]) =>
    buildCli()
      .exitOverride()
      .parseAsync(['node', 'vigil', ...args]);

  it('writes a self-contained HTML report to a file', async () => {
    const out = join(dataDir, 'credit.html');
    await run('report', '--model', 'credit', '--out', out);
    const html = readFileSync(out, 'utf8');
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).toContain('credit v1');
    expect(html).toContain('too few to test drift');
    expect(logged.join('\n')).toContain(`Wrote ${out}`);
  });

  it('writes the JSON report', async () => {
    const out = join(dataDir, 'iris.json');
    await run('report', '--model', 'iris', '--format', 'json', '--out', out);
    expect(JSON.parse(readFileSync(out, 'utf8'))).toMatchObject({
      model: 'iris',
      version: 1,
      stage: 'Production',
    });
  });

  it('records an evaluation in the history', async () => {
    await run('evaluate', '--model', 'iris');
    expect(JSON.parse(logged.join('\n'))).toMatchObject({ model: 'iris', version: 1, window: { size: 0 } });
    const out = join(dataDir, 'iris-2.json');
    await run('report', '--model', 'iris', '--format', 'json', '--out', out);
    expect(JSON.parse(readFileSync(out, 'utf8')).history).toHaveLength(1);
  });

  it('fails with the error code for an unknown model', async () => {
    await expect(run('report', '--model', 'nope', '--out', join(dataDir, 'x.html'))).rejects.toMatchObject({
      code: 'MODEL_NOT_FOUND',
    });
  });
});
