/** @jest-environment ./test/support/onnxruntime.environment.js */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onnx } from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { runCli } from './training-cli-harness';

const fixtures = join(__dirname, '..', 'fixtures', 'data');
const specPath = join(fixtures, 'applicants.spec.json');

describe('vigil validate-data', () => {
  it('passes the clean fixture (exit 0)', async () => {
    const run = await runCli(['validate-data', '--dataset', specPath]);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain('Data quality of "applicants": PASSED (200 rows read, 200 usable');
  });

  it.each([
    ['broken-missing-column.csv', 'schema', 'column "income" is missing'],
    [
      'broken-types.csv',
      'type',
      'column "age": 2 value(s) are not a whole number (e.g. "forty", "41.5") at rows 4, 11',
    ],
    ['broken-missing-values.csv', 'missing', 'column "income": 1 missing value(s) at rows 5'],
    ['broken-out-of-range.csv', 'out_of_range', 'column "age": 1 value(s) outside [18, 100] at rows 3'],
    [
      'broken-unknown-category.csv',
      'unknown_category',
      'column "housing": unknown category "castle" at rows 7',
    ],
    [
      'broken-label.csv',
      'label',
      'target "approved": label(s) "maybe" not in the label set [no, yes] at rows 10',
    ],
    ['broken-duplicates.csv', 'duplicates', '20 exact duplicate row(s)'],
    [
      'broken-imbalance.csv',
      'class_imbalance',
      'class "yes" is 2.50 % of usable rows; at least 10.00 % required',
    ],
    ['broken-too-few-rows.csv', 'min_rows', 'only 40 usable row(s) of 40; at least 100 required'],
  ])('%s: exit 1, %s named with column, rows and problem', async (file, check, message) => {
    const run = await runCli([
      'validate-data',
      '--dataset',
      specPath,
      '--csv',
      join(fixtures, file),
      '--json',
    ]);
    expect(run.exitCode).toBe(1);
    const report = JSON.parse(run.stdout);
    expect(report.passed).toBe(false);
    const finding = report.findings.find((f: { severity: string }) => f.severity === 'blocking');
    expect(finding.check).toBe(check);
    expect(finding.message).toContain(message);
  });
});

describe('vigil train', () => {
  let workDir: string;
  beforeAll(() => {
    workDir = mkdtempSync(join(tmpdir(), 'vigil-cli-'));
  });
  afterAll(() => rmSync(workDir, { recursive: true, force: true }));

  it('trains a user CSV described by a spec; the ONNX model answers with class names', async () => {
    const out = join(workDir, 'applicants');
    const run = await runCli([
      'train',
      '-d',
      specPath,
      '-a',
      'gbdt',
      '-o',
      out,
      '-p',
      'rounds=50',
      '--json',
      '--no-progress',
    ]);
    expect(run.error).toBeUndefined();
    const summary = JSON.parse(run.stdout);
    expect(summary).toMatchObject({ outDir: out, name: 'applicants', family: 'gbdt', seed: 42 });
    expect(summary.test.roc_auc).toBeGreaterThanOrEqual(0.6);
    expect(Object.keys(summary.files).sort()).toEqual([
      'history.json',
      'metrics.json',
      'model.onnx',
      'reference.json',
      'signature.json',
    ]);

    const signature = JSON.parse(readFileSync(join(out, 'signature.json'), 'utf8'));
    expect(signature).toMatchObject({
      name: 'applicants',
      task: 'binary',
      classes: ['no', 'yes'],
      positiveClass: 'yes',
      hyperParameters: expect.objectContaining({ rounds: 50 }),
    });
    const session = await ort.InferenceSession.create(join(out, 'model.onnx'), { intraOpNumThreads: 1 });
    const result = await session.run({
      age: new ort.Tensor('float32', Float32Array.from([25, 70]), [2, 1]),
      income: new ort.Tensor('float32', Float32Array.from([9000, 250000]), [2, 1]),
      housing: new ort.Tensor('string', ['rent', 'own'], [2, 1]),
    });
    expect([...(result.label!.data as string[])]).toEqual(['no', 'yes']);
    expect(result.probabilities!.dims).toEqual([2, 2]);
    await session.release();

    const model = onnx.ModelProto.decode(readFileSync(join(out, 'model.onnx')));
    const embedded = model.metadataProps.find((p) => p.key === 'vigil.signature');
    expect(JSON.parse(embedded!.value!)).toEqual(signature);
    expect((model.graph?.node ?? []).map((n) => n.opType)).not.toContain('ZipMap');
  }, 60_000);

  it('fails with exit 1 and names the blocking data problem', async () => {
    const run = await runCli([
      'train',
      '-d',
      specPath,
      '--csv',
      join(fixtures, 'broken-unknown-category.csv'),
      '-a',
      'logreg',
      '-o',
      join(workDir, 'never'),
      '--no-progress',
    ]);
    expect(run.exitCode).toBe(1);
    expect((run.error as Error).message).toContain('column "housing": unknown category "castle" at rows 7');
    expect(run.stderr).toContain('BLOCKING unknown_category');
  });

  it('fails with exit 1 when a test metric misses the spec minimum', async () => {
    const strict = join(workDir, 'strict.spec.json');
    const spec = JSON.parse(readFileSync(specPath, 'utf8'));
    writeFileSync(
      strict,
      JSON.stringify({
        ...spec,
        csv: join(fixtures, 'applicants.csv'),
        metricThresholds: { roc_auc: 0.999 },
      }),
    );
    const run = await runCli([
      'train',
      '-d',
      strict,
      '-a',
      'logreg',
      '-o',
      join(workDir, 'strict'),
      '--json',
      '--no-progress',
    ]);
    expect(run.exitCode).toBe(1);
    expect((run.error as { code: string }).code).toBe('QUALITY_GATE_FAILED');
    expect(JSON.parse(run.stdout).error.message).toMatch(
      /Metric gate failed for "applicants" \(logreg\): test roc_auc = 0\.\d{4} < 0\.999/,
    );
  });

  it('rejects unknown hyper-parameters and algorithms', async () => {
    const bad = await runCli(['train', '-d', 'iris', '-a', 'logreg', '-p', 'depth=3', '--no-progress']);
    expect(bad.exitCode).toBe(1);
    expect((bad.error as Error).message).toContain('unknown hyper-parameter "depth" for logreg');
    const algorithm = await runCli(['train', '-d', 'iris', '-a', 'svm']);
    expect(algorithm.exitCode).toBe(1);
    expect(algorithm.stderr).toContain('Allowed choices are logreg, gbdt');
  });

  it('documents every option and hyper-parameter in --help', async () => {
    const run = await runCli(['train', '--help']);
    expect(run.exitCode).toBe(0);
    for (const text of [
      '--dataset',
      '--csv',
      '--algorithm',
      '--seed',
      '--out',
      '--param',
      '--json',
      'rounds=300',
      'l2=0.01',
    ]) {
      expect(run.stdout).toContain(text);
    }
  });
});

describe('vigil train --track', () => {
  let workDir: string;
  const saved: Record<string, string | undefined> = {};
  beforeAll(() => {
    workDir = mkdtempSync(join(tmpdir(), 'vigil-track-'));
    for (const key of ['DATA_DIR', 'BOOTSTRAP_MODELS', 'DATABASE_URL']) saved[key] = process.env[key];
    process.env.DATA_DIR = join(workDir, 'data');
    process.env.BOOTSTRAP_MODELS = 'false';
    delete process.env.DATABASE_URL;
  });
  afterAll(() => {
    for (const [key, value] of Object.entries(saved))
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    rmSync(workDir, { recursive: true, force: true });
  });

  it('records the training as a finished run with its loss history, and registers it from the run', async () => {
    const out = join(workDir, 'iris');
    const run = await runCli([
      'train',
      '-d',
      'iris',
      '-a',
      'logreg',
      '-o',
      out,
      '--track',
      '--register',
      'Staging',
      '--json',
      '--no-progress',
    ]);
    expect(run.error).toBeUndefined();
    const summary = JSON.parse(run.stdout);
    expect(summary.runId).toEqual(expect.any(String));
    expect(summary.registeredVersion).toBe(1);

    const shown = await runCli(['runs', 'show', summary.runId, '--json']);
    expect(shown.error).toBeUndefined();
    const tracked = JSON.parse(shown.stdout);
    expect(tracked).toMatchObject({ runId: summary.runId, experiment: 'iris', status: 'FINISHED' });
    expect(tracked.metrics.macro_f1).toBeCloseTo(summary.test.macro_f1, 10);
    expect(tracked.history.train_loss.length).toBeGreaterThan(1);

    const model = JSON.parse((await runCli(['models', 'show', 'iris', '--json'])).stdout);
    expect(model.versions).toEqual([
      expect.objectContaining({ version: 1, stage: 'Staging', runId: summary.runId }),
    ]);
  });
});
