import type { Writable } from 'node:stream';
import { BoundedQueue } from './bounded-queue';

export interface StdoutLogSinkOptions {
  /** Lines held while the stream is behind; beyond that the oldest are dropped. */
  maxLines: number;
  /** Called with the number of lines dropped. */
  onDrop?: (count: number) => void;
}

/**
 * Writes log lines to a stream (stdout) in batches: lines logged during one event-loop turn are joined
 * and written with one `write` call on the next turn (`setImmediate`). Memory is bounded: while the
 * stream signals backpressure, lines queue up to `maxLines`, then the oldest are dropped and counted.
 */
export class StdoutLogSink {
  private readonly queue: BoundedQueue<string>;
  private scheduled = false;
  private waitingForDrain = false;
  private readonly flushNow = (): void => {
    this.scheduled = false;
    this.flush();
  };
  private readonly onDrain = (): void => {
    this.waitingForDrain = false;
    this.flush();
  };

  constructor(
    private readonly stream: Writable = process.stdout,
    private readonly options: StdoutLogSinkOptions = { maxLines: 10_000 },
  ) {
    this.queue = new BoundedQueue<string>(options.maxLines);
    // EPIPE and the like arrive as 'error' events; unhandled, they would crash the process.
    stream.on('error', () => undefined);
  }

  get pending(): number {
    return this.queue.size;
  }

  write(line: string): void {
    if (this.queue.push(line)) this.options.onDrop?.(1);
    if (!this.scheduled && !this.waitingForDrain) {
      this.scheduled = true;
      setImmediate(this.flushNow);
    }
  }

  /** Writes everything queued now (also used at shutdown). */
  flush(): void {
    if (this.waitingForDrain || this.queue.size === 0) return;
    const lines = this.queue.shift(this.queue.size);
    let ok = true;
    try {
      ok = this.stream.write(lines.join('\n') + '\n');
    } catch {
      // A closed stdout (EPIPE) must not take the service down: the lines are lost and counted.
      this.options.onDrop?.(lines.length);
      return;
    }
    if (!ok) {
      this.waitingForDrain = true;
      this.stream.once('drain', this.onDrain);
    }
  }
}
