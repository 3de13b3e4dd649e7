// One timing outside the HTTP path, run in its own (pinned) process by extras.mjs; prints JSON.
//   node bench/lib/extras-child.mjs drift <modelsDir> <rows>
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { makeRows, seededRandom } from './workload.mjs';

const require = createRequire(import.meta.url);
const [task, modelsDir, rowsArg] = process.argv.slice(2);
const ROOT = resolve(new URL('../..', import.meta.url).pathname);

function driftEvaluation() {
  const { evaluateWindow } = require(join(ROOT, 'dist', 'monitoring', 'domain', 'evaluation.js'));
  const model = 'credit';
  const signature = JSON.parse(readFileSync(join(modelsDir, model, 'signature.json'), 'utf8'));
  const reference = JSON.parse(readFileSync(join(modelsDir, model, 'reference.json'), 'utf8'));
  const metrics = JSON.parse(readFileSync(join(modelsDir, model, 'metrics.json'), 'utf8'));
  const size = Number(rowsArg);
  const random = seededRandom(7);
  const inputs = makeRows(signature, size, 7);
  const now = Date.now();
  // A window as the store returns it: inputs, label, probabilities, score; 10 % with feedback.
  const rows = inputs.map((row, index) => {
    const score = random();
    const label = score >= (signature.decisionThreshold ?? 0.5) ? signature.classes[1] : signature.classes[0];
    const windowRow = {
      predictionId: `p${index}`,
      timestamp: now - index,
      inputs: row,
      label,
      probabilities: [1 - score, score],
      score,
    };
    if (index % 10 === 0) windowRow.actual = random() < 0.2 ? signature.classes[1] : signature.classes[0];
    return windowRow;
  });
  const evaluate = () =>
    evaluateWindow({
      model,
      version: 1,
      signature,
      reference,
      trainingMetrics: metrics.test ?? {},
      rows,
      evaluatedAt: now,
      options: { driftShareThreshold: 0.5 },
    });
  evaluate(); // warm-up (JIT), as in a long-running service
  const runs = [];
  let result;
  for (let run = 0; run < 3; run += 1) {
    const start = performance.now();
    result = evaluate();
    runs.push(performance.now() - start);
  }
  runs.sort((a, b) => a - b);
  return {
    rows: size,
    features: result.drift?.features?.length ?? null,
    seconds: Math.round(runs[1]) / 1000,
    runsMs: runs.map(Math.round),
    note: 'evaluateWindow (drift of every feature + prediction drift + live quality) on an in-memory window; median of 3 after a warm-up',
  };
}

if (task === 'drift') process.stdout.write(JSON.stringify(driftEvaluation()));
else throw new Error(`unknown task ${task}`);
