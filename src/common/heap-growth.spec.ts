import { execFileSync } from 'node:child_process';
import { heapGrowthFlag, limitHeapGrowth } from './heap-growth';

describe('heap growth limit', () => {
  it.each([
    [50, '--heap-growing-percent=50'],
    [100, '--heap-growing-percent=100'],
    [0, undefined],
  ])('HEAP_GROWTH_PERCENT=%s → %s', (percent, flag) => {
    expect(heapGrowthFlag(percent)).toBe(flag);
    const set: string[] = [];
    limitHeapGrowth(percent, (flags) => set.push(flags));
    expect(set).toEqual(flag === undefined ? [] : [flag]);
  });

  // What the setting relies on: V8 honours the flag when it is set after startup. A Node upgrade that
  // froze V8 flags after initialisation would make this fail, not silently undo the setting.
  it('bounds the heap of a running process when set after startup', () => {
    const script = (flag: string): string => `
      const v8 = require('node:v8');
      ${flag === '' ? '' : `v8.setFlagsFromString(${JSON.stringify(flag)});`}
      const live = [];
      for (let i = 0; i < 300000; i++) live.push({ i, s: 'x' + i });
      const recent = [];
      let max = 0;
      for (let round = 0; round < 2000; round++) {
        const batch = [];
        for (let i = 0; i < 2000; i++) batch.push({ v: i * 1.5, s: 'y' + i });
        recent.push(batch);
        if (recent.length > 40) recent.shift();
        max = Math.max(max, process.memoryUsage().heapTotal);
      }
      process.stdout.write(String(max));`;
    const maxHeap = (flag: string): number =>
      Number(execFileSync(process.execPath, ['-e', script(flag)], { encoding: 'utf8' }));
    const unlimited = maxHeap('');
    const limited = maxHeap(heapGrowthFlag(50)!);
    expect(limited).toBeLessThan(unlimited * 0.75);
  }, 30_000);
});
