import { OverloadedError } from '../common/errors';
import type { ColumnBuffer } from './column-buffers';
import { type BatcherOptions, type BatchObserver, MicroBatcher } from './micro-batcher';

interface Call {
  rows: number;
  values: number[];
  columns: readonly ColumnBuffer[];
}

/** A runner that echoes each row's value ×10, and records every call. */
function makeBatcher(options: Partial<BatcherOptions> = {}, observer?: BatchObserver) {
  const calls: Call[] = [];
  let fail: Error | undefined;
  const batcher = new MicroBatcher<number[]>(
    { enabled: true, maxBatchRows: 4, maxDelayMs: 0, maxQueueRows: 8, ...options },
    (capacity) => [new Float32Array(capacity)],
    async (columns, rows) => {
      const values = Array.from((columns[0] as Float32Array).subarray(0, rows));
      calls.push({ rows, values, columns });
      if (fail) throw fail;
      return values.map((value) => value * 10);
    },
    observer,
  );
  /** One request: reserve, write its rows, submit. */
  const request = (...values: number[]) => {
    const batch = batcher.reserve(values.length);
    const offset = batch.rows;
    values.forEach((value, index) => ((batch.columns[0] as Float32Array)[offset + index] = value));
    return batcher
      .submit(batch, values.length)
      .then((run) => ({ out: run.output.slice(offset, offset + values.length), rows: run.rows }));
  };
  return { batcher, calls, request, failWith: (error: Error) => (fail = error) };
}

describe('MicroBatcher', () => {
  it('coalesces requests made in the same event-loop turn into one call and splits the results back', async () => {
    const { calls, request } = makeBatcher();
    const results = await Promise.all([request(1), request(2, 3), request(4)]);
    expect(calls.map((call) => call.values)).toEqual([[1, 2, 3, 4]]);
    expect(results).toEqual([
      { out: [10], rows: 4 },
      { out: [20, 30], rows: 4 },
      { out: [40], rows: 4 },
    ]);
  });

  it('never puts more than maxBatchRows rows in one call', async () => {
    const { calls, request } = makeBatcher();
    const results = await Promise.all([request(1, 2, 3), request(4, 5), request(6)]);
    expect(calls.map((call) => call.values)).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(results.map((result) => result.out)).toEqual([[10, 20, 30], [40, 50], [60]]);
  });

  it('runs a request larger than a batch as its own call', async () => {
    const { calls, request } = makeBatcher();
    const results = await Promise.all([request(1), request(2, 3, 4, 5, 6, 7)]);
    expect(calls.map((call) => call.values).sort((a, b) => a.length - b.length)).toEqual([
      [1],
      [2, 3, 4, 5, 6, 7],
    ]);
    expect(results[1].out).toEqual([20, 30, 40, 50, 60, 70]);
  });

  it('runs every request alone when batching is disabled', async () => {
    const { calls, request } = makeBatcher({ enabled: false });
    await Promise.all([request(1), request(2), request(3)]);
    expect(calls.map((call) => call.values)).toEqual([[1], [2], [3]]);
  });

  it('refuses with OverloadedError when the queue is full, and accepts again once it drained', async () => {
    const { batcher, request } = makeBatcher({ maxQueueRows: 4 });
    const pending = [request(1, 2), request(3, 4)];
    expect(batcher.depth).toBe(4);
    expect(() => batcher.reserve(1)).toThrow(OverloadedError);
    await Promise.all(pending);
    expect(batcher.depth).toBe(0);
    await expect(request(5)).resolves.toEqual({ out: [50], rows: 1 });
  });

  it('rejects every request of a batch whose call failed, and keeps serving', async () => {
    const { calls, request, failWith } = makeBatcher();
    failWith(new Error('boom'));
    const results = await Promise.allSettled([request(1), request(2)]);
    expect(results.map((result) => result.status)).toEqual(['rejected', 'rejected']);
    expect(calls).toHaveLength(1);
  });

  it('reuses the column buffers of finished batches', async () => {
    const { calls, request } = makeBatcher();
    await request(1);
    await request(2);
    expect(calls[1]!.columns[0]).toBe(calls[0]!.columns[0]);
  });

  it('drops a reserved batch whose rows were never submitted', async () => {
    const { batcher, calls, request } = makeBatcher();
    batcher.reserve(2); // e.g. the rows were invalid
    await request(7);
    expect(calls.map((call) => call.values)).toEqual([[7]]);
  });

  it('waits maxDelayMs for more rows, but flushes a full batch at once', async () => {
    jest.useFakeTimers();
    try {
      const { calls, request } = makeBatcher({ maxDelayMs: 5 });
      const first = request(1);
      await Promise.resolve();
      jest.advanceTimersByTime(4);
      expect(calls).toHaveLength(0);
      const second = request(2);
      jest.advanceTimersByTime(1);
      await Promise.all([first, second]);
      expect(calls.map((call) => call.values)).toEqual([[1, 2]]);
      const full = request(1, 2, 3, 4);
      jest.runOnlyPendingTimers(); // setImmediate, not the 5 ms timer
      await full;
      expect(calls).toHaveLength(2);
    } finally {
      jest.useRealTimers();
    }
  });

  it('resolves whenIdle once nothing is queued or running', async () => {
    const { batcher, request } = makeBatcher();
    let idle = false;
    const pending = request(1);
    const waiting = batcher.whenIdle().then(() => (idle = true));
    expect(idle).toBe(false);
    await pending;
    await waiting;
    expect(batcher.idle).toBe(true);
  });

  it('reports batch sizes, queue waits and depth to its observer', async () => {
    const seen: string[] = [];
    const observer: BatchObserver = {
      batchStarting: (rows, waits) => seen.push(`start ${rows} rows, ${waits.length} waits`),
      batchFinished: (rows, _duration, failed) => seen.push(`done ${rows} failed=${failed}`),
      queueDepth: (rows) => seen.push(`depth ${rows}`),
    };
    const { request } = makeBatcher({}, observer);
    await Promise.all([request(1), request(2)]);
    expect(seen).toEqual(['start 2 rows, 2 waits', 'depth 2', 'done 2 failed=false', 'depth 0']);
  });
});
