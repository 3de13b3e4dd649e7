/** Bytes per slab: a few hundred log lines. */
const SLAB_BYTES = 64 * 1024;

/**
 * Encodes log lines once, as UTF-8 `line + '\n'`, into shared slabs outside the JS heap: what the log
 * sinks queue is a small view per line, not the line's string. Queued strings (~0.7 KB a line, up to
 * 500 of them while a `_bulk` request is in flight) outlived the young generation and were copied and
 * promoted; and each sink used to encode every line again (docs/performance.md, pass 6). A slab is
 * freed when the last view into it is.
 */
export class LineEncoder {
  private slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
  private used = 0;

  encode(line: string): Buffer {
    // A UTF-16 unit is at most three UTF-8 bytes: measure only when the room could be short.
    if (this.slab.length - this.used < line.length * 3 + 1) {
      const need = Buffer.byteLength(line) + 1;
      if (this.slab.length - this.used < need) {
        this.slab = Buffer.allocUnsafeSlow(Math.max(SLAB_BYTES, need));
        this.used = 0;
      }
    }
    const start = this.used;
    this.used += this.slab.write(line, start);
    this.slab[this.used++] = 10;
    return this.slab.subarray(start, this.used);
  }
}

/** Encoded lines (`LineEncoder`) back to back in one buffer, each after `prefix` when given. */
export function joinLines(lines: readonly Uint8Array[], prefix?: Uint8Array): Buffer {
  const prefixBytes = prefix?.length ?? 0;
  let total = 0;
  for (const line of lines) total += prefixBytes + line.length;
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  for (const line of lines) {
    if (prefix !== undefined) {
      out.set(prefix, at);
      at += prefixBytes;
    }
    out.set(line, at);
    at += line.length;
  }
  return out;
}
