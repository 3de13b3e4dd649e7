import { BoundedQueue } from './bounded-queue';

describe('BoundedQueue', () => {
  it('keeps FIFO order and drops the oldest when full', () => {
    const queue = new BoundedQueue<number>(3);
    expect([1, 2, 3].map((item) => queue.push(item))).toEqual([false, false, false]);
    expect(queue.push(4)).toBe(true);
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

  it('refuses a capacity below one', () => {
    expect(() => new BoundedQueue(0)).toThrow(RangeError);
  });
});
