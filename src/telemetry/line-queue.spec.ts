import { LineQueue } from './line-queue';

const bytes = (text: string): Buffer => Buffer.from(text);
/** The lines `take` returns, as strings (split by the lengths it reports). */
function taken(queue: LineQueue, maxLines = Number.MAX_SAFE_INTEGER, maxBytes?: number): string[] {
  const { body, lengths } = queue.take(maxLines, maxBytes);
  const lines: string[] = [];
  let at = 0;
  for (const length of lengths) {
    lines.push(body.toString('utf8', at, at + length));
    at += length;
  }
  expect(at).toBe(body.length);
  return lines;
}

describe('LineQueue', () => {
  it('keeps FIFO order and drops the oldest when full', () => {
    const queue = new LineQueue(3);
    expect(['1', '2', '3'].map((line) => queue.push(bytes(line)))).toEqual([0, 0, 0]);
    expect(queue.push(bytes('4'))).toBe(1);
    expect(queue.size).toBe(3);
    expect(taken(queue)).toEqual(['2', '3', '4']);
    expect(queue.size).toBe(0);
    expect(queue.bytesHeld).toBe(0);
  });

  it('takes in slices, joined, with a prefix before each line when asked', () => {
    const queue = new LineQueue(10);
    for (const line of ['a\n', 'bb\n', 'ccc\n']) queue.push(bytes(line));
    const { body, lengths } = queue.take(2, Number.POSITIVE_INFINITY, bytes('{"create":{}}\n'));
    expect(body.toString()).toBe('{"create":{}}\na\n{"create":{}}\nbb\n');
    expect(lengths).toEqual([2, 3]);
    expect(taken(queue)).toEqual(['ccc\n']);
  });

  it('wraps lines around the end of its buffer and grows without reordering them', () => {
    const queue = new LineQueue(100_000);
    const line = (index: number): string => `${index}:${'x'.repeat(index % 700)}é\n`;
    let next = 0;
    let expected = 0;
    // Push and take at different paces, so that the start moves around the ring.
    for (let round = 0; round < 40; round += 1) {
      for (let count = 0; count < 150; count += 1) queue.push(bytes(line(next++)));
      for (const text of taken(queue, 97)) expect(text).toBe(line(expected++));
    }
    const capacity = queue.capacity;
    expect(capacity).toBeGreaterThan(64 * 1024); // grew past its first 64 KB
    for (const text of taken(queue)) expect(text).toBe(line(expected++));
    expect(expected).toBe(next);
    // Steady traffic below what it grew to: the same buffer, no new one.
    for (let round = 0; round < 20; round += 1) {
      for (let count = 0; count < 50; count += 1) queue.push(bytes(line(next++)));
      for (const text of taken(queue)) expect(text).toBe(line(expected++));
    }
    expect(queue.capacity).toBe(capacity);
  });

  describe('bounded in bytes', () => {
    it('drops as many of the oldest lines as the new one needs', () => {
      const queue = new LineQueue(100, 10);
      queue.push(bytes('aaaa'));
      queue.push(bytes('bbbb'));
      expect(queue.bytesHeld).toBe(8);
      expect(queue.push(bytes('cccccc'))).toBe(1);
      expect(queue.push(bytes('dddddddd'))).toBe(2);
      expect(taken(queue)).toEqual(['dddddddd']);
    });

    it('drops a line longer than the whole bound, keeping the rest', () => {
      const queue = new LineQueue(100, 5);
      queue.push(bytes('abc'));
      expect(queue.push(bytes('x'.repeat(6)))).toBe(1);
      expect(taken(queue)).toEqual(['abc']);
    });

    it('takes batches within a size, at least one line', () => {
      const queue = new LineQueue(100, 1000);
      for (const line of ['aaa', 'bbb', 'cc', 'x'.repeat(50), 'd']) queue.push(bytes(line));
      expect(taken(queue, 10, 8)).toEqual(['aaa', 'bbb', 'cc']);
      expect(taken(queue, 10, 8)).toEqual(['x'.repeat(50)]);
      expect(taken(queue, 10, 8)).toEqual(['d']);
      expect(taken(queue, 10, 8)).toEqual([]);
    });
  });

  it('puts a batch back at the front, in order, keeping only what fits', () => {
    const byLines = new LineQueue(4);
    byLines.push(bytes('c'));
    byLines.push(bytes('d'));
    expect(byLines.unshift(['x', 'a', 'b'].map(bytes))).toBe(1);
    expect(taken(byLines)).toEqual(['a', 'b', 'c', 'd']);

    const bySize = new LineQueue(100, 10);
    bySize.push(bytes('123456'));
    expect(bySize.unshift(['aaa', 'bb', 'cc'].map(bytes))).toBe(1);
    expect(taken(bySize)).toEqual(['bb', 'cc', '123456']);
  });

  it('puts lines back across the start of its buffer', () => {
    const queue = new LineQueue(100);
    queue.push(bytes('first'));
    taken(queue); // empty again: the next line starts at offset 0
    queue.push(bytes('later'));
    expect(queue.unshift([bytes('retried-1'), bytes('retried-2')])).toBe(0);
    expect(taken(queue)).toEqual(['retried-1', 'retried-2', 'later']);
  });

  it('shrinks back after a backlog, once the lines held stay far smaller', () => {
    jest.useFakeTimers({ now: 0 });
    try {
      const queue = new LineQueue(100_000);
      const line = bytes(`${'x'.repeat(999)}\n`);
      for (let count = 0; count < 2000; count += 1) queue.push(line); // a 2-MB backlog
      taken(queue);
      const backlog = queue.capacity;
      expect(backlog).toBeGreaterThanOrEqual(2_000_000);
      jest.setSystemTime(6000);
      for (let count = 0; count < 10; count += 1) queue.push(line);
      taken(queue); // the busiest moment of this check's window still holds the backlog
      expect(queue.capacity).toBe(backlog);
      jest.setSystemTime(12_000);
      for (let count = 0; count < 10; count += 1) queue.push(line);
      expect(taken(queue)).toHaveLength(10);
      expect(queue.capacity).toBeLessThanOrEqual(64 * 1024);
    } finally {
      jest.useRealTimers();
    }
  });

  it('refuses a bound below one', () => {
    expect(() => new LineQueue(0)).toThrow(RangeError);
    expect(() => new LineQueue(10, 0)).toThrow(RangeError);
  });
});
