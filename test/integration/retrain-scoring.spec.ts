/** @jest-environment ./test/support/onnxruntime.environment.js */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelSignature } from '../../src/common/signature';
import { scoreOnHoldout } from '../../src/monitoring/retrain.service';
import { generateCredit } from '../../src/training/datasets/credit.dataset';

const MODEL_DIR = join(__dirname, '../../models/credit');

/** The champion/challenger scoring of a retraining run, on the real credit model. */
describe('scoreOnHoldout', () => {
  const onnx = readFileSync(join(MODEL_DIR, 'model.onnx'));
  const signature = JSON.parse(readFileSync(join(MODEL_DIR, 'signature.json'), 'utf8')) as ModelSignature;
  // More rows than one scoring batch (1,024), so that the first rows' batch differs from their own run.
  const rows = generateCredit({ rows: 1500, seed: 7 }).rows;

  it("scores the first rows of one run as a run on those rows alone (the production holdout's metric)", async () => {
    const all = await scoreOnHoldout(onnx, signature, rows);
    const first = await scoreOnHoldout(onnx, signature, rows.slice(0, 300));
    for (const metric of ['roc_auc', 'accuracy', 'macro_f1', 'log_loss']) {
      expect(all.metric(metric, 300)).toBe(first.metric(metric));
      expect(all.metric(metric)).not.toBe(first.metric(metric));
    }
    expect(all.metric('roc_auc')).toBeGreaterThan(0.6);
  });

  it('has no metric without rows, or for a name the report does not have', async () => {
    const none = await scoreOnHoldout(onnx, signature, []);
    expect(none.metric('roc_auc')).toBeNull();
    const all = await scoreOnHoldout(onnx, signature, rows);
    expect(all.metric('roc_auc', 0)).toBeNull();
    expect(all.metric('no_such_metric')).toBeNull();
  });
});
