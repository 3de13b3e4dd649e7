import { turnsDuring } from '../../test/support/event-loop-turns';
import { EventLoopSlicer, runInSlices } from './event-loop-slicer';

/** Runs on the CPU for `ms` (a step of long work). */
function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

function* steps(count: number, stepMs: number): Generator<void, string> {
  for (let step = 0; step < count; step++) {
    busy(stepMs);
    yield;
  }
  return 'done';
}

describe('runInSlices', () => {
  it('gives the event loop a turn each time the budget has run out, and returns the result', async () => {
    const { value, turns } = await turnsDuring(() => runInSlices(steps(8, 2), new EventLoopSlicer(3)));
    expect(value).toBe('done');
    // A turn every second step (2 ms each, 3-ms budget): four.
    expect(turns).toBeGreaterThanOrEqual(3);
    expect(turns).toBeLessThanOrEqual(8);
  });

  it('gives none while the budget lasts', async () => {
    const { value, turns } = await turnsDuring(() => runInSlices(steps(50, 0), new EventLoopSlicer(60_000)));
    expect(value).toBe('done');
    expect(turns).toBe(0);
  });

  it('with a zero budget, gives a turn after every step', async () => {
    const { turns } = await turnsDuring(() => runInSlices(steps(5, 0), new EventLoopSlicer(0)));
    expect(turns).toBeGreaterThanOrEqual(5);
  });

  it('says when the budget has run out (due), and starts a new one after a turn', async () => {
    const slicer = new EventLoopSlicer(50);
    expect(slicer.due()).toBe(false);
    busy(60);
    expect(slicer.due()).toBe(true);
    await slicer.turn();
    expect(slicer.due()).toBe(false);
  });
});
