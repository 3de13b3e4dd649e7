// Timings outside the HTTP path, each in its own process pinned like the server: a drift evaluation
// over a 100,000-prediction window and a credit GBDT training run (the CLI, as a user runs it).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function pinned(cpus, command, args, options) {
  return cpus
    ? spawnSync('taskset', ['-c', cpus, command, ...args], options)
    : spawnSync(command, args, options);
}

export async function runExtras({ root, modelsDir, cpus, log }) {
  const extras = {};
  const evaluation = join(root, 'dist', 'monitoring', 'domain', 'evaluation.js');
  if (!existsSync(evaluation)) {
    extras.drift = { skipped: 'dist/monitoring/domain/evaluation.js does not exist' };
  } else {
    const child = pinned(
      cpus,
      process.execPath,
      [join(root, 'bench', 'lib', 'extras-child.mjs'), 'drift', modelsDir, '100000'],
      {
        encoding: 'utf8',
        timeout: 120_000,
      },
    );
    extras.drift =
      child.status === 0
        ? JSON.parse(child.stdout)
        : { error: (child.stderr || String(child.error)).slice(0, 500) };
  }
  log(`extras: drift ${JSON.stringify(extras.drift)}`);

  const cli = join(root, 'dist', 'cli.js');
  if (!existsSync(cli)) {
    extras.training = { skipped: 'dist/cli.js does not exist' };
  } else {
    const out = mkdtempSync(join(tmpdir(), 'vigil-bench-train-'));
    try {
      const start = performance.now();
      const child = pinned(
        cpus,
        process.execPath,
        [cli, 'train', '--dataset', 'credit', '--algorithm', 'gbdt', '--out', out, '--no-progress'],
        { encoding: 'utf8', timeout: 300_000, cwd: root },
      );
      const seconds = Math.round(performance.now() - start) / 1000;
      extras.training =
        child.status === 0
          ? {
              seconds,
              note: 'node dist/cli.js train --dataset credit --algorithm gbdt (wall time, process start included)',
            }
          : { error: (child.stderr || String(child.error)).slice(0, 500) };
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }
  log(`extras: training ${JSON.stringify(extras.training)}`);
  return extras;
}
