// Preload (`node --require bench/lib/stall-hook.cjs …`): finds the event loop's stalls and says what
// each one was. A 1-ms interval timer notes every gap longer than STALL_HOOK_MS (4) between two of its
// ticks: the main thread did not come back to its timers for that long, and every request in flight
// waited as long. For each gap it reads the thread's own /proc/thread-self/schedstat (its second field:
// ns runnable but waiting for a core) and the GC pauses that fell in it, so a stall is split into time
// the main thread was ready to run but another thread (of this process or not) had the core, and time
// it ran: its own work, GC pauses included. (The first field, ns on the CPU, is only brought up to date
// at scheduler ticks: read while running it lags by up to a tick, so `ranMs` is the gap less the wait.) On exit it writes `{ thresholdMs, stalls: [{ at, gapMs, ranMs, waitedMs,
// gcMs }] }` (at: epoch ms at the end of the gap) to STALL_HOOK_FILE. Linux only; costs a timer
// callback and a pread a millisecond (`bench/memwatch.mjs --stalls` uses it).
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
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const slot = (gcCount++ % GC_KEPT) * 2;
      gcs[slot] = entry.startTime;
      gcs[slot + 1] = entry.startTime + entry.duration;
    }
  }).observe({ entryTypes: ['gc'] });
  const gcWithin = (from, to) => {
    let total = 0;
    for (let index = 0; index < Math.min(gcCount, GC_KEPT); index++) {
      const start = Math.max(gcs[index * 2], from);
      const end = Math.min(gcs[index * 2 + 1], to);
      if (end > start) total += end - start;
    }
    return total;
  };
  const round = (value) => Math.round(value * 100) / 100;
  const stalls = [];
  let last = performance.now();
  let lastWaited = waitedSoFar();
  setInterval(() => {
    const now = performance.now();
    const waited = waitedSoFar();
    const gap = now - last;
    if (gap > thresholdMs && stalls.length < MAX_STALLS) {
      const waitedMs = Math.min(gap, waited - lastWaited);
      stalls.push({
        at: Math.round(performance.timeOrigin + now),
        gapMs: round(gap),
        ranMs: round(gap - waitedMs),
        waitedMs: round(waitedMs),
        gcMs: round(gcWithin(last, now)),
      });
    }
    last = now;
    lastWaited = waited;
  }, 1).unref();
  process.on('exit', () => {
    closeSync(fd);
    writeFileSync(file, JSON.stringify({ thresholdMs, stalls }));
  });
}
