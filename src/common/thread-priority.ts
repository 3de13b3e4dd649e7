import { readdirSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/** How this process's threads are listed and re-prioritised (Linux `/proc`, `setpriority`). */
export interface ThreadControl {
  /** Thread ids of the process; throws where there is no `/proc` (then nothing is done). */
  threads(): number[];
  /** The nice value of the calling (main) thread. */
  ownNice(): number;
  /** Sets one thread's nice value (Linux applies `setpriority(PRIO_PROCESS, tid)` to that thread alone). */
  setNice(tid: number, nice: number): void;
}

export const linuxThreads: ThreadControl = {
  threads: () => readdirSync('/proc/self/task').map(Number),
  ownNice: () => getPriority(),
  setNice: (tid, nice) => setPriority(tid, nice),
};

/** The highest nice value (lowest priority) Linux has. */
const LOWEST = 19;
/** New threads appear after startup (libuv's pool, worker threads, ONNX Runtime): looked for this often. */
export const RESCAN_INTERVAL_MS = 5000;

/**
 * Gives every thread of the process but the event loop's a lower CPU priority (`HELPER_THREAD_NICE`
 * above the main thread's nice value): V8's GC helpers, the prediction store's writer, libuv's pool.
 * On a saturated core they took ~17 % of it in slices of several milliseconds, and each slice stalled
 * every request in flight; niced, the scheduler hands the core back to the event loop sooner. They
 * still get the CPU they need (weights, not a ban) and run freely when a core is idle, so nothing
 * changes when there is spare CPU. The price, on a saturated core: the GC helpers and the writer fall
 * behind, and the process holds more memory (100-row requests: RSS +10–30 MB); hence off by default
 * (docs/performance.md, pass 8). Raising the main thread instead would need CAP_SYS_NICE; lowering
 * one's own threads needs no privilege.
 */
export class HelperThreadPriority {
  /** Threads already lowered (a thread keeps its nice value; ids of ended threads are dropped). */
  private readonly lowered = new Set<number>();

  constructor(
    private readonly nice: number,
    private readonly control: ThreadControl = linuxThreads,
    private readonly mainThread: number = process.pid,
  ) {}

  /** Lowers the helper threads there are now and, every `RESCAN_INTERVAL_MS`, those started since. */
  start(): void {
    if (this.nice <= 0 || this.apply() === undefined) return;
    // For the life of the process: it never holds the process open and has nothing to release.
    setInterval(() => this.apply(), RESCAN_INTERVAL_MS).unref();
  }

  /**
   * One pass: the threads lowered by it (`undefined` where threads cannot be listed). A thread that
   * ended meanwhile, or one the system refuses, is skipped: this never throws.
   */
  apply(): number | undefined {
    let threads: number[];
    try {
      threads = this.control.threads();
    } catch {
      return undefined;
    }
    const target = Math.min(LOWEST, this.control.ownNice() + this.nice);
    const current = new Set(threads);
    for (const tid of this.lowered) if (!current.has(tid)) this.lowered.delete(tid);
    let changed = 0;
    for (const tid of threads) {
      if (tid === this.mainThread || this.lowered.has(tid)) continue;
      try {
        this.control.setNice(tid, target);
        this.lowered.add(tid);
        changed += 1;
      } catch {
        // Ended between the listing and the call (ESRCH), or not ours to change (EPERM/EACCES).
      }
    }
    return changed;
  }
}
