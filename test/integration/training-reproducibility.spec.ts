import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './training-cli-harness';

/**
 * The committed demo models are exactly what `vigil train` produces: retrain with the Makefile's
 * arguments and compare every artifact byte for byte (sha256). If this fails after an intended
 * change to training, regenerate with `make train` and commit models/.
 */
const sha256 = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');
const repoRoot = join(__dirname, '..', '..');

describe('reproducible training', () => {
  let workDir: string;
  beforeAll(() => {
    workDir = mkdtempSync(join(tmpdir(), 'vigil-train-'));
  });
  afterAll(() => rmSync(workDir, { recursive: true, force: true }));

  it.each([
    ['iris', 'logreg'],
    ['credit', 'gbdt'],
  ])(
    'models/%s (%s) is byte-identical to a fresh training run',
    async (dataset, algorithm) => {
      const out = join(workDir, dataset);
      const run = await runCli([
        'train',
        '--dataset',
        dataset,
        '--algorithm',
        algorithm,
        '--out',
        out,
        '--no-progress',
      ]);
      expect(run.error).toBeUndefined();
      expect(run.exitCode).toBe(0);

      const committed = join(repoRoot, 'models', dataset);
      const files = readdirSync(out).sort();
      expect(files).toEqual([
        'history.json',
        'metrics.json',
        'model.onnx',
        'reference.json',
        'signature.json',
      ]);
      expect(readdirSync(committed).sort()).toEqual(files);
      for (const file of files) {
        expect({ file, sha256: sha256(join(out, file)) }).toEqual({
          file,
          sha256: sha256(join(committed, file)),
        });
      }
    },
    120_000,
  );

  it('another seed gives another split, hence other bytes', async () => {
    const out = join(workDir, 'iris-seed-7');
    const run = await runCli([
      'train',
      '-d',
      'iris',
      '-a',
      'logreg',
      '--seed',
      '7',
      '-o',
      out,
      '--no-progress',
    ]);
    expect(run.exitCode).toBe(0);
    expect(sha256(join(out, 'model.onnx'))).not.toBe(sha256(join(repoRoot, 'models', 'iris', 'model.onnx')));
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
    expect(metrics.seed).toBe(7);
    expect(JSON.stringify(metrics)).not.toMatch(/20\d\d-\d\d-\d\dT/); // no timestamps
  }, 60_000);
});
