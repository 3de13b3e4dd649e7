import { setImmediate as nextTurn } from 'node:timers/promises';

/**
 * A long job's longest block on the event loop, by default. A scheduled drift evaluation over 5,000
 * predictions was one block: an `await` on a SQLite query gives the event loop no turn (better-sqlite3
 * answers at once, the promise is settled) and the statistics never awaited. Under load, serving
 * stopped for 126–295 ms once a minute (docs/performance.md, pass 13).
 */
export const DEFAULT_SLICE_MS = 5;

/**
 * Long work on the event loop cut into slices. `turn()` lets the event loop run (requests waiting on it
 * are served, timers fire) once `budgetMs` have passed since the last turn, and costs a clock read
 * otherwise. Call it between units of work that are short next to the budget.
 */
export class EventLoopSlicer {
  private since = performance.now();

  constructor(private readonly budgetMs = DEFAULT_SLICE_MS) {}

  /** The budget has run out: the next `turn()` yields. For loops whose steps are too short to await each. */
  due(): boolean {
    return performance.now() - this.since >= this.budgetMs;
  }

  async turn(): Promise<void> {
    if (!this.due()) return;
    // `setImmediate` runs after the poll phase: sockets that became readable are handled first.
    await nextTurn();
    this.since = performance.now();
  }
}

/** Runs `steps` to the value it returns, calling `slicer.turn()` after each step it yields. */
export async function runInSlices<T>(
  steps: Generator<unknown, T>,
  slicer = new EventLoopSlicer(),
): Promise<T> {
  for (;;) {
    const step = steps.next();
    if (step.done === true) return step.value;
    await slicer.turn();
  }
}

/** Runs `steps` to the value it returns, in one block (for callers off the event loop, and tests). */
export function runToEnd<T>(steps: Generator<unknown, T>): T {
  let step = steps.next();
  while (step.done !== true) step = steps.next();
  return step.value;
}
