// Preload (`node --require bench/lib/stall-hook.cjs …`): finds the event loop's stalls and says what
// each one was. A 1-ms interval timer notes every gap longer than STALL_HOOK_MS (4) between two of its
// ticks: the main thread did not come back to its timers for that long, and every request in flight
// waited as long. For each gap it reads the thread's own /proc/thread-self/schedstat (its second
// field: ns runnable but waiting for a core), and adds up the GC pauses that fell in it, also those
// reported after the gap was noted (GC entries reach observers later). A stall is so split into time
// the main thread was ready to run while another thread (of this process or not) had the core, and
// time it ran: its own work, GC pauses included. (The first field, ns on the CPU, is only brought up
// to date at scheduler ticks: read while running it lags by up to a tick, so `ranMs` is the gap less
// the wait.) On exit it writes `{ thresholdMs, stalls: [{ at, gapMs, ranMs, waitedMs, gcMs }] }` (at:
// epoch ms at the end of the gap) to STALL_HOOK_FILE. Linux only; costs a timer callback and a pread
// a millisecond (`bench/memwatch.mjs --stalls` uses it).
'use strict';
const { closeSync, openSync, readSync, writeFileSync } = require('node:fs');
const { PerformanceObserver, performance } = require('node:perf_hooks');

const file = process.env.STALL_HOOK_FILE;
const thresholdMs = Number(process.env.STALL_HOOK_MS ?? 4);
const MAX_STALLS = 100_000;
const GC_KEPT = 256;

if (file !== undefined && file !== '') {
  const fd = openSync('/proc/thread-self/schedstat', 'r');
  const scratch = Buffer.alloc(128);
  /** Ms the main thread has been runnable but waiting for a core, so far. */
  const waitedSoFar = () =>
    Number(scratch.toString('latin1', 0, readSync(fd, scratch, 0, scratch.length, 0)).split(' ')[1]) / 1e6;
  // The last GC pauses as [start, end] in performance.now() ms, a ring.
  const gcs = new Float64Array(GC_KEPT * 2);
  let gcCount = 0;
  const overlap = (start, end, from, to) => Math.max(0, Math.min(end, to) - Math.max(start, from));
  /** Stalls noted so far, with their span in performance.now() ms (`from`, `to`: not written out). */
  const stalls = [];
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const start = entry.startTime;
      const end = start + entry.duration;
      const slot = (gcCount++ % GC_KEPT) * 2;
      gcs[slot] = start;
      gcs[slot + 1] = end;
      // A pause inside a stall noted before this entry arrived: that stall did not count it.
      for (let index = stalls.length - 1; index >= 0 && stalls[index].to > start; index--)
        stalls[index].gcMs += overlap(start, end, stalls[index].from, stalls[index].to);
    }
  }).observe({ entryTypes: ['gc'] });
  /** GC pauses already reported that fell in [from, to]. */
  const gcWithin = (from, to) => {
    let total = 0;
    for (let index = 0; index < Math.min(gcCount, GC_KEPT); index++)
      total += overlap(gcs[index * 2], gcs[index * 2 + 1], from, to);
    return total;
  };
  const round = (value) => Math.round(value * 100) / 100;
  let last = performance.now();
  let lastWaited = waitedSoFar();
  setInterval(() => {
    const now = performance.now();
    const waited = waitedSoFar();
    const gap = now - last;
    if (gap > thresholdMs && stalls.length < MAX_STALLS) {
      const waitedMs = Math.min(gap, waited - lastWaited);
      stalls.push({
        from: last,
        to: now,
        at: Math.round(performance.timeOrigin + now),
        gapMs: round(gap),
        ranMs: round(gap - waitedMs),
        waitedMs: round(waitedMs),
        gcMs: gcWithin(last, now),
      });
    }
    last = now;
    lastWaited = waited;
  }, 1).unref();
  process.on('exit', () => {
    closeSync(fd);
    const written = stalls.map(({ from, to, gcMs, ...stall }) => ({ ...stall, gcMs: round(gcMs) }));
    writeFileSync(file, JSON.stringify({ thresholdMs, stalls: written }));
  });
}
