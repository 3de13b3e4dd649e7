import { type ComparableRun, flattenMetrics, sortRunsByMetric } from './metrics';

describe('flattenMetrics', () => {
  it('keeps the finite numbers of metrics.json "test"', () => {
    expect(
      flattenMetrics({
        primaryMetric: 'roc_auc',
        test: { roc_auc: 0.8, accuracy: 0.9, bad: Number.NaN },
        train: { roc_auc: 1 },
      }).metrics,
    ).toEqual({ roc_auc: 0.8, accuracy: 0.9 });
  });
  it('accepts flat metrics', () => {
    expect(flattenMetrics({ roc_auc: 0.7, note: 'x' }).metrics).toEqual({ roc_auc: 0.7 });
  });
  it('reports a non-object', () => {
    expect(flattenMetrics([1, 2]).problems).toEqual(['metrics must be a JSON object']);
  });
});

describe('sortRunsByMetric', () => {
  const runs: ComparableRun[] = [
    { runId: 'a', metrics: { auc: 0.7 } },
    { runId: 'b', metrics: {} },
    { runId: 'c', metrics: { auc: 0.9 } },
    { runId: 'd', metrics: { auc: 0.7 } },
  ];
  it('sorts best first, ties by id, runs without the metric last', () => {
    expect(sortRunsByMetric(runs, 'auc').map((run) => run.runId)).toEqual(['c', 'a', 'd', 'b']);
  });
  it('sorts ascending for losses', () => {
    expect(sortRunsByMetric(runs, 'auc', 'asc').map((run) => run.runId)).toEqual(['a', 'd', 'c', 'b']);
  });
});
