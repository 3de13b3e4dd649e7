/** Bytes a queue starts with; it doubles as lines wait, up to what its bound needs. */
const INITIAL_BYTES = 64 * 1024;
/** How often a queue checks whether it is holding far more buffer than its busiest recent moment. */
const TRIM_EVERY_MS = 5000;

/** Lines taken off a `LineQueue`, joined into one buffer. */
export interface TakenLines {
  /** The lines back to back, each after the prefix when one was given. */
  readonly body: Buffer;
  /** Each line's length in bytes (without the prefix), oldest first. */
  readonly lengths: readonly number[];
}

/**
 * A bounded FIFO of log lines (UTF-8 bytes) for a sink that writes them in batches: the bytes are
 * copied into one circular buffer, reused, and the lengths into a ring of numbers. A queued line is no
 * JavaScript object and no buffer of its own. Views into shared 64-KB slabs (the previous design)
 * waited a bulk request's time (~0.1–0.3 s), long enough to be promoted: under load the slabs drove
 * a full collection every second with 100-row requests (docs/performance.md, pass 9).
 *
 * When full, in lines or in bytes, `push` drops the oldest lines (the newest events matter most when a
 * sink is behind) and says how many, so that the caller counts the loss. The buffer keeps the size its
 * load needs; after a backlog (a sink down) it shrinks back once the lines held stay four times
 * smaller for `TRIM_EVERY_MS`.
 */
export class LineQueue {
  private bytes: Buffer;
  /** Offset of the oldest line's first byte. */
  private start = 0;
  private held = 0;
  private readonly lengths: Int32Array;
  /** Index in `lengths` of the oldest line. */
  private first = 0;
  private count = 0;
  /** The most bytes held since the last trim check, and when that was. */
  private peak = 0;
  private checkedAt = Date.now();

  constructor(
    readonly maxLines: number,
    readonly maxBytes: number = Number.POSITIVE_INFINITY,
  ) {
    if (!Number.isInteger(maxLines) || maxLines < 1) throw new RangeError('maxLines must be an integer ≥ 1');
    if (!(maxBytes >= 1)) throw new RangeError('maxBytes must be ≥ 1');
    this.lengths = new Int32Array(maxLines);
    this.bytes = Buffer.allocUnsafeSlow(INITIAL_BYTES);
  }

  get size(): number {
    return this.count;
  }

  /** Bytes of lines held. */
  get bytesHeld(): number {
    return this.held;
  }

  /** Bytes of buffer the queue holds (what it costs in memory, grown to its busiest moment). */
  get capacity(): number {
    return this.bytes.length;
  }

  /**
   * Appends a copy of `line`; returns how many of the oldest lines were dropped to make room (a line
   * longer than `maxBytes` is dropped itself and counts as one).
   */
  push(line: Uint8Array): number {
    const length = line.length;
    if (length > this.maxBytes) return 1;
    let dropped = 0;
    while (this.count > 0 && (this.count === this.maxLines || this.held + length > this.maxBytes)) {
      this.dropOldest();
      dropped += 1;
    }
    this.reserve(length);
    this.copyIn(line, (this.start + this.held) % this.bytes.length);
    this.held += length;
    if (this.held > this.peak) this.peak = this.held;
    this.lengths[(this.first + this.count) % this.maxLines] = length;
    this.count += 1;
    return dropped;
  }

  /**
   * Removes the oldest lines, at most `maxLines` of them whose bytes stay within `maxBytes` (at least
   * one when the queue is not empty), and returns them joined, each after `prefix` when given.
   */
  take(maxLines: number, maxBytes = Number.POSITIVE_INFINITY, prefix?: Uint8Array): TakenLines {
    const lengths: number[] = [];
    let total = 0;
    while (lengths.length < Math.min(maxLines, this.count)) {
      const next = this.lengths[(this.first + lengths.length) % this.maxLines]!;
      if (lengths.length > 0 && total + next > maxBytes) break;
      lengths.push(next);
      total += next;
    }
    const prefixBytes = prefix?.length ?? 0;
    const body = Buffer.allocUnsafe(total + prefixBytes * lengths.length);
    if (prefix === undefined) this.copyOut(this.start, total, body, 0);
    else {
      let from = this.start;
      let at = 0;
      for (const length of lengths) {
        body.set(prefix, at);
        at += prefixBytes;
        this.copyOut(from, length, body, at);
        at += length;
        from = (from + length) % this.bytes.length;
      }
    }
    this.start = (this.start + total) % this.bytes.length;
    this.held -= total;
    this.first = (this.first + lengths.length) % this.maxLines;
    this.count -= lengths.length;
    if (this.count === 0) this.start = 0;
    this.trim();
    return { body, lengths };
  }

  /**
   * Puts lines back at the front (a batch to retry), in their order. What does not fit the bounds is
   * the oldest of them and is not kept; returns how many were not kept.
   */
  unshift(lines: readonly Uint8Array[]): number {
    let kept = 0;
    for (let index = lines.length - 1; index >= 0; index -= 1) {
      const line = lines[index]!;
      if (this.count === this.maxLines || this.held + line.length > this.maxBytes) break;
      this.reserve(line.length);
      this.start = (this.start - line.length + this.bytes.length) % this.bytes.length;
      this.copyIn(line, this.start);
      this.held += line.length;
      if (this.held > this.peak) this.peak = this.held;
      this.first = (this.first - 1 + this.maxLines) % this.maxLines;
      this.lengths[this.first] = line.length;
      this.count += 1;
      kept += 1;
    }
    return lines.length - kept;
  }

  private dropOldest(): void {
    const length = this.lengths[this.first]!;
    this.start = (this.start + length) % this.bytes.length;
    this.held -= length;
    this.first = (this.first + 1) % this.maxLines;
    this.count -= 1;
    if (this.count === 0) this.start = 0;
  }

  /** Grows the buffer (its lines moved to the front, in order) so that `length` more bytes fit. */
  private reserve(length: number): void {
    if (this.held + length <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < this.held + length) size *= 2;
    this.resize(size);
  }

  /** Every `TRIM_EVERY_MS`: a buffer four times larger than the most held meanwhile is halved (or more). */
  private trim(): void {
    const now = Date.now();
    if (now - this.checkedAt < TRIM_EVERY_MS) return;
    const wanted = Math.max(INITIAL_BYTES, this.peak * 2);
    let size = this.bytes.length;
    while (size >= wanted * 2 && size / 2 >= INITIAL_BYTES) size /= 2;
    if (size < this.bytes.length) this.resize(size);
    this.checkedAt = now;
    this.peak = this.held;
  }

  private resize(size: number): void {
    const resized = Buffer.allocUnsafeSlow(size);
    this.copyOut(this.start, this.held, resized, 0);
    this.bytes = resized;
    this.start = 0;
  }

  /** Copies `line` into the ring at `at`, wrapping at its end. */
  private copyIn(line: Uint8Array, at: number): void {
    const room = this.bytes.length - at;
    if (line.length <= room) this.bytes.set(line, at);
    else {
      this.bytes.set(line.subarray(0, room), at);
      this.bytes.set(line.subarray(room), 0);
    }
  }

  /** Copies `length` bytes of the ring from `from` (wrapping) into `target` at `at`. */
  private copyOut(from: number, length: number, target: Uint8Array, at: number): void {
    const room = this.bytes.length - from;
    if (length <= room) this.bytes.copy(target, at, from, from + length);
    else {
      this.bytes.copy(target, at, from, this.bytes.length);
      this.bytes.copy(target, at + room, 0, length - room);
    }
  }
}
