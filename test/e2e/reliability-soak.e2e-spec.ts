/**
 * The short soak: scripts/soak.mjs for 12 s against node dist/main.js (steady predictions, a
 * promotion every 2 s, feedback every second). The long run is the same script with --duration.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { MAIN, ROOT, tempDir } from '../reliability/harness';

interface SoakReport {
  requests: number;
  errorCount: number;
  errors: Record<string, number>;
  promotions: number;
  feedbackSent: number;
  versionsServed: Record<string, number>;
  rssGrowthMb: number;
  latencyMs: { p50: number; p99: number };
  p99DriftMs: number;
}

describe('short soak (scripts/soak.mjs, 12 s)', () => {
  it('zero errors while versions are promoted and feedback flows; RSS growth bounded', () => {
    if (!existsSync(MAIN))
      throw new Error(`${MAIN} is missing: run \`npm run build\` first (make test does)`);
    const directory = tempDir('soak');
    const out = join(directory, 'soak.json');
    try {
      const run = spawnSync(
        process.execPath,
        [
          join(ROOT, 'scripts/soak.mjs'),
          '--duration',
          '12',
          '--concurrency',
          '4',
          '--promote-every',
          '2',
          '--window',
          '4',
          '--json',
          out,
        ],
        { cwd: ROOT, encoding: 'utf8', timeout: 90_000 },
      );
      const report = JSON.parse(readFileSync(out, 'utf8')) as SoakReport;
      process.stdout.write(`${run.stdout}`);
      expect(report.errors).toEqual({});
      expect(report.errorCount).toBe(0);
      expect(run.status).toBe(0);
      expect(report.requests).toBeGreaterThan(1000);
      expect(report.promotions).toBeGreaterThanOrEqual(3);
      expect(Object.keys(report.versionsServed).sort()).toEqual(['1', '2']);
      expect(report.feedbackSent).toBeGreaterThan(0);
      expect(report.rssGrowthMb).toBeLessThan(120);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  }, 120_000);
});
