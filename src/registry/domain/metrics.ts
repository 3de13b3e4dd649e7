/**
 * `metrics.json` as training writes it is `{ "test": { "roc_auc": 0.91, … }, "train": { … } }`; the
 * registry keeps the flat test metrics. A flat object of numbers is accepted as is.
 */
export function flattenMetrics(raw: unknown): { metrics: Record<string, number>; problems: string[] } {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    return { metrics: {}, problems: ['metrics must be a JSON object'] };
  const source = 'test' in raw && typeof raw.test === 'object' && raw.test !== null ? raw.test : raw;
  const metrics: Record<string, number> = {};
  for (const [key, value] of Object.entries(source)) {
    if (typeof value === 'number' && Number.isFinite(value)) metrics[key] = value;
  }
  return { metrics, problems: [] };
}

export interface ComparableRun {
  runId: string;
  metrics: Record<string, number>;
}

/** Runs sorted by one metric, best first; runs without the metric go last. */
export function sortRunsByMetric<T extends ComparableRun>(
  runs: readonly T[],
  metric: string,
  order: 'desc' | 'asc' = 'desc',
): T[] {
  const sign = order === 'desc' ? -1 : 1;
  return [...runs].sort((left, right) => {
    const a = left.metrics[metric];
    const b = right.metrics[metric];
    if (a === undefined && b === undefined) return left.runId.localeCompare(right.runId);
    if (a === undefined) return 1;
    if (b === undefined) return -1;
    return a === b ? left.runId.localeCompare(right.runId) : sign * (a - b);
  });
}
