// What `stall-hook.cjs` found, as a markdown table (`bench/memwatch.mjs --stalls`).

/**
 * The table's rows for the stalls that ended within [from, to] (epoch ms), by length: how many and how
 * many ms of them a second, and the share of their time the main thread ran (GC pauses included, and
 * also given apart) or waited for a core.
 */
export function stallTable(stalls, from, to) {
  const seconds = (to - from) / 1000;
  const inRange = stalls.filter((stall) => stall.at >= from && stall.at <= to);
  const rows = [];
  for (const [low, high] of [
    [4, 6],
    [6, 10],
    [10, Infinity],
  ]) {
    const group = inRange.filter((stall) => stall.gapMs > low && stall.gapMs <= high);
    const total = (key) => group.reduce((sum, stall) => sum + stall[key], 0);
    const share = (key) =>
      total('gapMs') > 0 ? `${Math.round((100 * total(key)) / total('gapMs'))} %` : '–';
    rows.push(
      `| ${high === Infinity ? `> ${low}` : `${low}–${high}`} ms | ${(group.length / seconds).toFixed(1)} | ` +
        `${(total('gapMs') / seconds).toFixed(1)} | ${share('ranMs')} | ${share('gcMs')} | ${share('waitedMs')} |`,
    );
  }
  return rows;
}
