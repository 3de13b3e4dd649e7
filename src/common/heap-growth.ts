import { setFlagsFromString } from 'node:v8';

/**
 * How far V8 lets the old generation grow past what survived the last full collection before the
 * next one: by default up to 4× under allocation pressure, so a service with ~45 MB of live objects
 * sat at 170–190 MB of heap (and 330–350 MB of RSS with 100-row requests) holding garbage it had not
 * yet collected. `HEAP_GROWTH_PERCENT` = 50 capped the factor at 1.5 (docs/performance.md: RSS 326 →
 * 239–244 MB with 100-row requests; it cost ~10 % of their throughput until the store stopped keeping
 * records alive in pass 5, nothing measurable since: 307–311 → 238–239 MB for credit). The default is
 * 40 since pass 12: the store's writes no longer start full collections by themselves (shared buffers),
 * so the heap grew to its limit more often; 40 took 1–5 MB off the peak, throughput unchanged. 0 leaves
 * V8's own heuristic. Not a hard limit (`--max-old-space-size`): a backlog that must be held (the prediction
 * store's queue while the database is down) still fits, it is only collected sooner.
 *
 * V8 reads the flag at every full collection, so setting it at startup (before the app allocates)
 * works like the command-line flag, which `NODE_OPTIONS` does not accept.
 */
export function heapGrowthFlag(percent: number): string | undefined {
  return percent > 0 ? `--heap-growing-percent=${Math.round(percent)}` : undefined;
}

export function limitHeapGrowth(
  percent: number,
  setFlags: (flags: string) => void = setFlagsFromString,
): void {
  const flag = heapGrowthFlag(percent);
  if (flag !== undefined) setFlags(flag);
}
