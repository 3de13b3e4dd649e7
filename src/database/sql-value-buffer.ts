import type { SqlValue } from './sql-database';

const NULL = 0;
const NUMBER = 1;
const TEXT = 2;

/**
 * SQL parameter values (text, numbers, null) appended to one buffer outside the JS heap, read back in
 * order by `readSqlValues`. A queue of JS strings and arrays waiting for a database write survives the
 * young-generation collections it meets, each of which copies it; bytes outside the heap are never
 * copied by the collector, and cross to a worker thread as one block (docs/performance.md, pass 5).
 * Layout: a tag byte per value; a number is 8 bytes (float64, little-endian); a text, its UTF-8 byte
 * length (uint32, little-endian) then its bytes.
 */
export class SqlValueBuffer {
  private buffer: Buffer;
  private at = 0;

  /**
   * `shared`: the bytes live in a `SharedArrayBuffer`, which a worker thread reads where they are (no
   * copy to post, none to transfer); the writer of it must then leave them alone until that read is done.
   */
  constructor(
    initialBytes = 16 * 1024,
    private readonly shared = false,
  ) {
    this.buffer = this.allocate(initialBytes);
  }

  get byteLength(): number {
    return this.at;
  }

  /** Bytes it can hold before it grows. */
  get capacity(): number {
    return this.buffer.length;
  }

  /** Empties it, keeping its memory for the next values. */
  clear(): void {
    this.at = 0;
  }

  append(values: readonly SqlValue[]): void {
    for (const value of values) {
      if (value === null) {
        this.reserve(1);
        this.buffer[this.at++] = NULL;
      } else if (typeof value === 'number') {
        this.reserve(9);
        this.buffer[this.at] = NUMBER;
        this.buffer.writeDoubleLE(value, this.at + 1);
        this.at += 9;
      } else if (typeof value === 'string') {
        // At most three bytes per UTF-16 unit: room for that, never a pass to measure the text.
        this.reserve(5 + value.length * 3);
        const bytes = this.buffer.write(value, this.at + 5, 'utf8');
        this.buffer[this.at] = TEXT;
        this.buffer.writeUInt32LE(bytes, this.at + 1);
        this.at += 5 + bytes;
      } else {
        throw new TypeError(`SqlValueBuffer holds text, numbers and null, not ${typeof value}`);
      }
    }
  }

  /** The bytes appended so far: a view of the buffer, valid until the next `append`. */
  bytes(): Uint8Array {
    return this.buffer.subarray(0, this.at);
  }

  private reserve(bytes: number): void {
    if (this.buffer.length - this.at >= bytes) return;
    const grown = this.allocate(Math.max(this.buffer.length * 2, this.at + bytes));
    this.buffer.copy(grown, 0, 0, this.at);
    this.buffer = grown;
  }

  private allocate(bytes: number): Buffer {
    return this.shared ? Buffer.from(new SharedArrayBuffer(bytes)) : Buffer.allocUnsafeSlow(bytes);
  }
}

/**
 * The values a `SqlValueBuffer` holds, in order. The SQLite writer thread reads them with a copy of
 * this function in its source (`sqlite-prediction.writer.ts`); the spec checks the two agree.
 */
export function readSqlValues(bytes: Uint8Array): SqlValue[] {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const values: SqlValue[] = [];
  let at = 0;
  while (at < buffer.length) {
    const tag = buffer[at]!;
    if (tag === NULL) {
      values.push(null);
      at += 1;
    } else if (tag === NUMBER) {
      values.push(buffer.readDoubleLE(at + 1));
      at += 9;
    } else if (tag === TEXT) {
      const end = at + 5 + buffer.readUInt32LE(at + 1);
      values.push(buffer.toString('utf8', at + 5, end));
      at = end;
    } else {
      throw new Error(`corrupt SQL value buffer: tag ${tag} at byte ${at}`);
    }
  }
  return values;
}
