import { BoundedQueue } from './bounded-queue';

describe('BoundedQueue', () => {
  it('keeps FIFO order and drops the oldest when full', () => {
    const queue = new BoundedQueue<number>(3);
    expect([1, 2, 3].map((item) => queue.push(item))).toEqual([0, 0, 0]);
    expect(queue.push(4)).toBe(1);
    expect(queue.size).toBe(3);
    expect(queue.shift(10)).toEqual([2, 3, 4]);
    expect(queue.size).toBe(0);
  });

  it('shifts in slices and wraps around', () => {
    const queue = new BoundedQueue<number>(4);
    for (let item = 1; item <= 10; item += 1) queue.push(item);
    expect(queue.shift(2)).toEqual([7, 8]);
    queue.push(11);
    expect(queue.shift(5)).toEqual([9, 10, 11]);
  });

  it('puts a batch back at the front, keeping only what fits', () => {
    const queue = new BoundedQueue<string>(4);
    queue.push('c');
    queue.push('d');
    expect(queue.unshift(['x', 'a', 'b'])).toBe(1);
    expect(queue.shift(4)).toEqual(['a', 'b', 'c', 'd']);
  });

  describe('bounded by weight', () => {
    const byLength = (max: number) => new BoundedQueue<string>(100, { max, of: (item) => item.length });

    it('drops as many of the oldest items as the new one needs', () => {
      const queue = byLength(10);
      queue.push('aaaa');
      queue.push('bbbb');
      expect(queue.weightHeld).toBe(8);
      expect(queue.push('cccccc')).toBe(1);
      expect(queue.push('dddddddd')).toBe(2);
      expect(queue.shift(10)).toEqual(['dddddddd']);
      expect(queue.weightHeld).toBe(0);
    });

    it('drops an item heavier than the whole bound, keeping the rest', () => {
      const queue = byLength(5);
      queue.push('abc');
      expect(queue.push('x'.repeat(6))).toBe(1);
      expect(queue.shift(5)).toEqual(['abc']);
    });

    it('shifts batches within a weight, at least one item', () => {
      const queue = byLength(1000);
      for (const item of ['aaa', 'bbb', 'cc', 'x'.repeat(50), 'd']) queue.push(item);
      expect(queue.shiftWithin(10, 8)).toEqual(['aaa', 'bbb', 'cc']);
      expect(queue.shiftWithin(10, 8)).toEqual(['x'.repeat(50)]);
      expect(queue.shiftWithin(10, 8)).toEqual(['d']);
      expect(queue.shiftWithin(10, 8)).toEqual([]);
    });

    it('puts back only what fits in the weight', () => {
      const queue = byLength(10);
      queue.push('123456');
      expect(queue.unshift(['aaa', 'bb', 'cc'])).toBe(1);
      expect(queue.shift(10)).toEqual(['bb', 'cc', '123456']);
      expect(queue.weightHeld).toBe(0);
    });
  });

  it('refuses a capacity below one', () => {
    expect(() => new BoundedQueue(0)).toThrow(RangeError);
  });
});
