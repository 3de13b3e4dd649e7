import type { Writable } from 'node:stream';
import { LineQueue } from './line-queue';

export interface StdoutLogSinkOptions {
  /** Lines held while the stream is behind; beyond that the oldest are dropped. */
  maxLines: number;
  /** Bytes held at most, likewise. Default: no bound. */
  maxBytes?: number;
  /** Lines are gathered this long before one write (0: the next event-loop turn). Default 10 ms. */
  flushDelayMs?: number;
  /** Called with the number of lines dropped. */
  onDrop?: (count: number) => void;
}

/** Beyond this many waiting lines, write on the next turn instead of waiting for the delay. */
const EAGER_LINES = 512;

/**
 * Writes log lines to a stream (stdout) in batches: lines gathered for `flushDelayMs` (or up to 512)
 * are joined and written with one `write` call, off the request path: under load that is one system
 * call per few hundred lines instead of one per line. Memory is bounded: while the stream signals
 * backpressure, lines queue up to `maxLines`, then the oldest are dropped and counted.
 */
export class StdoutLogSink {
  private readonly queue: LineQueue;
  private timer: NodeJS.Timeout | undefined;
  private immediate = false;
  private waitingForDrain = false;
  private readonly flushDelayMs: number;
  private readonly flushNow = (): void => {
    this.immediate = false;
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
    this.queue = new LineQueue(options.maxLines, options.maxBytes);
    this.flushDelayMs = options.flushDelayMs ?? 10;
    // EPIPE and the like arrive as 'error' events; unhandled, they would crash the process.
    stream.on('error', () => undefined);
  }

  get pending(): number {
    return this.queue.size;
  }

  /** Takes a copy of one encoded line (`LineEncoder`: UTF-8, newline included). */
  write(line: Uint8Array): void {
    const dropped = this.queue.push(line);
    if (dropped > 0) this.options.onDrop?.(dropped);
    if (this.waitingForDrain || this.immediate) return;
    if (this.flushDelayMs === 0 || this.queue.size >= EAGER_LINES) {
      this.immediate = true;
      setImmediate(this.flushNow);
    } else if (this.timer === undefined) {
      this.timer = setTimeout(this.flushNow, this.flushDelayMs);
    }
  }

  /** Writes everything queued now (also used at shutdown). */
  flush(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.waitingForDrain || this.queue.size === 0) return;
    const lines = this.queue.take(this.queue.size);
    let ok = true;
    try {
      ok = this.stream.write(lines.body);
    } catch {
      // A closed stdout (EPIPE) must not take the service down: the lines are lost and counted.
      this.options.onDrop?.(lines.lengths.length);
      return;
    }
    if (!ok) {
      this.waitingForDrain = true;
      this.stream.once('drain', this.onDrain);
    }
  }
}
