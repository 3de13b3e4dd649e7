import type { Counter, Gauge, Histogram, LabelValues } from 'prom-client';

/**
 * Metric series bound once to fixed label values, updated with a plain field write.
 *
 * prom-client's label children (`histogram.labels(...).observe(v)`) validate and hash their label
 * values on every call: ~0.6 µs each, paid per request (HTTP duration, queue wait) and per predicted
 * row (score histogram, class counter) — 4–5 % of the service's CPU under load (docs/performance.md).
 * These series look their prom-client entry up by its precomputed key and update it in place, which
 * is what prom-client itself does after hashing (15.x: histogram entries `{ labels, bucketValues, sum,
 * count }`, counter and gauge entries `{ labels, value }`, mutated in place by `inc`/`dec`). Whenever the entry is missing
 * (the metric was reset, or the series removed), the update goes through prom-client's own path,
 * which recreates it under the same key. `bound-series.spec.ts` checks the exposition text against
 * prom-client's own path, so a prom-client release that changes this layout fails the tests.
 */
export interface HistogramSeries {
  observe(value: number): void;
}

export interface CounterSeries {
  inc(value?: number): void;
}

/** Only `inc`/`dec`: prom-client's `set` replaces the entry, so a bound `set` would gain nothing. */
export interface GaugeSeries {
  inc(value?: number): void;
  dec(value?: number): void;
}

interface HistogramEntry {
  labels: Record<string, string | number>;
  bucketValues: Record<string, number>;
  sum: number;
  count: number;
}

interface CounterEntry {
  labels: Record<string, string | number>;
  value: number;
}

interface Internals<Entry> {
  hashMap: Record<string, Entry | undefined>;
  labelNames: string[];
}

function sameLabels(entryLabels: Record<string, string | number>, labels: Record<string, unknown>): boolean {
  const names = Object.keys(labels);
  if (Object.keys(entryLabels).length !== names.length) return false;
  return names.every((name) => String(entryLabels[name]) === String(labels[name]));
}

/** The key prom-client filed the series under, creating it (zero) when it does not exist yet. */
function entryKey<Entry extends { labels: Record<string, string | number> }>(
  internals: Internals<Entry>,
  labels: Record<string, unknown>,
  create: () => void,
): string | undefined {
  const find = (): string | undefined =>
    Object.keys(internals.hashMap).find((key) => {
      const entry = internals.hashMap[key];
      return entry !== undefined && sameLabels(entry.labels, labels);
    });
  const existing = find();
  if (existing !== undefined) return existing;
  create();
  return find();
}

export function histogramSeries<T extends string>(
  histogram: Histogram<T>,
  labels: LabelValues<T>,
): HistogramSeries {
  const child = histogram.labels(labels);
  const internals = histogram as unknown as Internals<HistogramEntry> & { upperBounds: number[] };
  const bounds = internals.upperBounds;
  const key = entryKey(internals, labels, () => histogram.zero(labels));
  if (key === undefined || !Array.isArray(bounds)) return child;
  // `bucketValues` is keyed by each bound's text: indexing it with the number formats that double on
  // every observation (3× slower in a micro-benchmark; 3.6 % of a 100-row credit profile, a score a row).
  const bucketKeys = bounds.map(String);
  return {
    observe(value: number): void {
      const entry = internals.hashMap[key];
      if (entry === undefined || !Number.isFinite(value)) {
        child.observe(value);
        return;
      }
      entry.sum += value;
      entry.count += 1;
      for (let index = 0; index < bounds.length; index++) {
        if (value <= bounds[index]!) {
          entry.bucketValues[bucketKeys[index]!]! += 1;
          return;
        }
      }
    },
  };
}

export function counterSeries<T extends string>(counter: Counter<T>, labels: LabelValues<T>): CounterSeries {
  const child = counter.labels(labels);
  const internals = counter as unknown as Internals<CounterEntry>;
  const key = entryKey(internals, labels, () => child.inc(0));
  if (key === undefined) return child;
  return {
    inc(value = 1): void {
      const entry = internals.hashMap[key];
      if (entry === undefined || !(value >= 0) || !Number.isFinite(value)) {
        child.inc(value);
        return;
      }
      entry.value += value;
    },
  };
}

export function gaugeSeries<T extends string>(gauge: Gauge<T>, labels: LabelValues<T>): GaugeSeries {
  const child = gauge.labels(labels);
  const internals = gauge as unknown as Internals<CounterEntry>;
  const key = entryKey(internals, labels, () => child.inc(0));
  if (key === undefined) return child;
  const add = (delta: number, slow: () => void): void => {
    const entry = internals.hashMap[key];
    if (entry === undefined || !Number.isFinite(delta)) slow();
    else entry.value += delta;
  };
  return {
    inc: (value = 1) => add(value, () => child.inc(value)),
    dec: (value = 1) => add(-value, () => child.dec(value)),
  };
}
