import { readFileSync, readlinkSync } from 'node:fs';
import { getPriority } from 'node:os';
import { Worker } from 'node:worker_threads';
import { HelperThreadPriority, linuxThreads, type ThreadControl } from './thread-priority';

/** A process of `threads` (the first is main) whose nice values are recorded. */
function fakeThreads(threads: number[], ownNice = 0) {
  const nice = new Map<number, number>();
  const refused = new Set<number>();
  const control: ThreadControl = {
    threads: () => [...threads],
    ownNice: () => ownNice,
    setNice: (tid, value) => {
      if (refused.has(tid)) throw Object.assign(new Error('no such process'), { code: 'ESRCH' });
      nice.set(tid, value);
    },
  };
  return { control, nice, refused, threads };
}

describe('HelperThreadPriority', () => {
  it('lowers every thread but the main one, by the nice value above the main thread', () => {
    const proc = fakeThreads([100, 101, 102, 103], 2);
    const priority = new HelperThreadPriority(5, proc.control, 100);
    expect(priority.apply()).toBe(3);
    expect([...proc.nice]).toEqual([
      [101, 7],
      [102, 7],
      [103, 7],
    ]);
  });

  it('never goes past the lowest priority there is (19)', () => {
    const proc = fakeThreads([100, 101], 17);
    new HelperThreadPriority(5, proc.control, 100).apply();
    expect(proc.nice.get(101)).toBe(19);
  });

  it('lowers threads started since the last pass, and only those', () => {
    const proc = fakeThreads([100, 101]);
    const priority = new HelperThreadPriority(5, proc.control, 100);
    priority.apply();
    proc.threads.push(104);
    proc.nice.clear();
    expect(priority.apply()).toBe(1);
    expect([...proc.nice.keys()]).toEqual([104]);
  });

  it('forgets ended threads, so a reused id is lowered again', () => {
    const proc = fakeThreads([100, 101]);
    const priority = new HelperThreadPriority(5, proc.control, 100);
    priority.apply();
    proc.threads.splice(1, 1);
    priority.apply();
    proc.threads.push(101);
    proc.nice.clear();
    expect(priority.apply()).toBe(1);
    expect(proc.nice.get(101)).toBe(5);
  });

  it('skips a thread it may not change and keeps going', () => {
    const proc = fakeThreads([100, 101, 102]);
    proc.refused.add(101);
    const priority = new HelperThreadPriority(5, proc.control, 100);
    expect(priority.apply()).toBe(1);
    expect(proc.nice.has(102)).toBe(true);
    // Tried again on the next pass (it may have been a transient refusal).
    proc.refused.clear();
    expect(priority.apply()).toBe(1);
  });

  it('does nothing where threads cannot be listed (no /proc) or when the setting is 0', () => {
    const failing: ThreadControl = {
      threads: () => {
        throw new Error('ENOENT');
      },
      ownNice: () => 0,
      setNice: () => {
        throw new Error('not called');
      },
    };
    expect(new HelperThreadPriority(5, failing).apply()).toBeUndefined();
    const proc = fakeThreads([100, 101]);
    new HelperThreadPriority(0, proc.control, 100).start();
    expect(proc.nice.size).toBe(0);
  });

  // Against the kernel: a real worker thread of this process ends up niced, the main thread does not.
  it('lowers a real worker thread on Linux and leaves the main thread alone', async () => {
    const worker = new Worker(
      `const { parentPort } = require('node:worker_threads');
       const { readlinkSync } = require('node:fs');
       const { getPriority } = require('node:os');
       parentPort.postMessage(Number(readlinkSync('/proc/thread-self').split('/').pop()));
       parentPort.on('message', () => parentPort.postMessage(getPriority()));`,
      { eval: true },
    );
    try {
      const next = (): Promise<number> => new Promise((resolve) => worker.once('message', resolve));
      const tid = await next();
      const mainTid = Number(readlinkSync('/proc/thread-self').split('/').pop());
      const mainNice = getPriority();
      // Only the worker and this thread: the rest of the test process stays as it is.
      const control: ThreadControl = {
        ...linuxThreads,
        threads: () => linuxThreads.threads().filter((id) => id === tid || id === mainTid),
      };
      expect(new HelperThreadPriority(3, control, mainTid).apply()).toBe(1);
      worker.postMessage('nice?');
      expect(await next()).toBe(Math.min(19, mainNice + 3));
      // Field 19 of the thread's stat line is its nice value.
      const niceOf = (id: number): number => {
        const stat = readFileSync(`/proc/self/task/${id}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
      };
      expect(niceOf(tid)).toBe(Math.min(19, mainNice + 3));
      expect(niceOf(mainTid)).toBe(mainNice);
    } finally {
      await worker.terminate();
    }
  });
});
