import { randomFillSync } from 'node:crypto';
import { INVALID_SPANID, INVALID_TRACEID } from '@opentelemetry/api';
import type { IdGenerator } from '@opentelemetry/sdk-trace-base';

/** Random bytes drawn at a time: 128 trace ids and as many span ids. */
const POOL_BYTES = 3072;

/**
 * Trace and span ids cut from a pool of random hex text. Every request gets a trace id and a span id,
 * sampled or not (the sampler reads the trace id; the ids go out in `traceresponse` and the ECS lines):
 * the SDK's `RandomIdGenerator` writes `Math.random()` words into a buffer and hex-encodes it per id
 * (530–770 ns a pair, `docs/performance.md`); here one `randomFillSync` and one hex encoding serve 128
 * pairs and an id is a substring (~110 ns a pair). The ids come from the CSPRNG, not `Math.random()`.
 * A substring keeps its pool's text (6 KB) alive while it lives: ids die with their spans and lines.
 */
export class PooledIdGenerator implements IdGenerator {
  private readonly bytes = Buffer.allocUnsafe(POOL_BYTES);
  private hex = '';
  private at = 0;

  constructor(private readonly fill: (bytes: Buffer) => void = (bytes) => randomFillSync(bytes)) {}

  generateTraceId(): string {
    const id = this.take(32);
    // All zeros is the invalid id of W3C Trace Context (a chance of 2^-128, but never sent).
    return id === INVALID_TRACEID ? this.generateTraceId() : id;
  }

  generateSpanId(): string {
    const id = this.take(16);
    return id === INVALID_SPANID ? this.generateSpanId() : id;
  }

  private take(chars: number): string {
    if (this.at + chars > this.hex.length) {
      this.fill(this.bytes);
      this.hex = this.bytes.toString('hex');
      this.at = 0;
    }
    const id = this.hex.slice(this.at, this.at + chars);
    this.at += chars;
    return id;
  }
}
