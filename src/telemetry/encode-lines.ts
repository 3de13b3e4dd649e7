/**
 * Encodes log lines as UTF-8 `line + '\n'` into one scratch buffer, reused: the sinks copy the bytes
 * into their own queues (`LineQueue`) at once, so a line costs no buffer of its own. A view stays valid
 * until the next `encode`.
 */
export class LineEncoder {
  private scratch = Buffer.allocUnsafeSlow(16 * 1024);

  encode(line: string): Buffer {
    // A UTF-16 unit is at most three UTF-8 bytes: measure only when the room could be short.
    if (this.scratch.length < line.length * 3 + 1) {
      const need = Buffer.byteLength(line) + 1;
      if (this.scratch.length < need) this.scratch = Buffer.allocUnsafeSlow(need * 2);
    }
    const length = this.scratch.write(line, 0);
    this.scratch[length] = 10;
    return this.scratch.subarray(0, length + 1);
  }
}
