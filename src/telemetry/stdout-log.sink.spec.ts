import { Writable } from 'node:stream';
import { LineEncoder } from './encode-lines';
import { StdoutLogSink } from './stdout-log.sink';

/** A log line as the pipeline hands it over (UTF-8, newline included). */
const encoder = new LineEncoder();
const encoded = (line: string): Uint8Array => encoder.encode(line);

/** A stream that accepts writes but reports backpressure until `drain()` is called. */
class SlowStream extends Writable {
  readonly chunks: string[] = [];
  blocked = true;
  override write(chunk: string | Buffer): boolean {
    this.chunks.push(chunk.toString());
    return !this.blocked;
  }
  drain(): void {
    this.blocked = false;
    this.emit('drain');
  }
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('StdoutLogSink', () => {
  it('joins the lines of one event-loop turn into one write', async () => {
    const stream = new SlowStream();
    stream.blocked = false;
    const sink = new StdoutLogSink(stream, { maxLines: 10, flushDelayMs: 0 });
    sink.write(encoded('a'));
    sink.write(encoded('b'));
    expect(stream.chunks).toEqual([]);
    await nextTurn();
    expect(stream.chunks).toEqual(['a\nb\n']);
  });

  it('holds at most maxLines while the stream is behind and counts what it drops', async () => {
    const stream = new SlowStream();
    let dropped = 0;
    const sink = new StdoutLogSink(stream, {
      maxLines: 3,
      flushDelayMs: 0,
      onDrop: (count) => (dropped += count),
    });
    sink.write(encoded('first'));
    await nextTurn(); // written; the stream now signals backpressure
    for (let index = 0; index < 10; index += 1) sink.write(encoded(`line ${index}`));
    await nextTurn();
    expect(stream.chunks).toHaveLength(1);
    expect(sink.pending).toBe(3);
    expect(dropped).toBe(7);
    stream.drain();
    expect(stream.chunks[1]).toBe('line 7\nline 8\nline 9\n');
    expect(sink.pending).toBe(0);
  });

  it('holds at most maxBytes of lines while the stream is behind', async () => {
    const stream = new SlowStream();
    let dropped = 0;
    const sink = new StdoutLogSink(stream, {
      maxLines: 100,
      maxBytes: 28,
      flushDelayMs: 0,
      onDrop: (count) => (dropped += count),
    });
    sink.write(encoded('first'));
    await nextTurn();
    for (let index = 0; index < 10; index += 1) sink.write(encoded(`line ${index}`)); // 7 bytes each, with the newline
    await nextTurn();
    expect(sink.pending).toBe(4);
    expect(dropped).toBe(6);
    stream.drain();
    expect(stream.chunks[1]).toBe('line 6\nline 7\nline 8\nline 9\n');
  });

  it('gathers lines for the flush delay, or writes early when many are waiting', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate'] });
    try {
      const stream = new SlowStream();
      stream.blocked = false;
      const sink = new StdoutLogSink(stream, { maxLines: 2000, flushDelayMs: 10 });
      sink.write(encoded('a'));
      await nextTurn();
      expect(stream.chunks).toEqual([]);
      sink.write(encoded('b'));
      jest.advanceTimersByTime(10);
      expect(stream.chunks).toEqual(['a\nb\n']);
      for (let index = 0; index < 600; index += 1) sink.write(encoded('x'));
      await nextTurn();
      expect(stream.chunks).toHaveLength(2);
      expect(sink.pending).toBe(0);
    } finally {
      jest.useRealTimers();
    }
  });

  it('survives a stream that throws', async () => {
    const stream = new Writable({
      write: () => {
        throw new Error('EPIPE');
      },
    });
    let dropped = 0;
    const sink = new StdoutLogSink(stream, {
      maxLines: 5,
      flushDelayMs: 0,
      onDrop: (count) => (dropped += count),
    });
    sink.write(encoded('x'));
    await nextTurn();
    expect(dropped).toBe(1);
  });
});
