import { randomUUID } from 'node:crypto';

/**
 * A UUID version 7 (RFC 9562): 48 bits of Unix milliseconds first, then a 12-bit counter, then random
 * bits, so ids made later sort later. Request and prediction ids are keys of the prediction store:
 * random (v4) keys land all over the B-tree indexes and cost SQLite ~40 µs per stored row once the
 * table outgrows the page cache; time-ordered keys are appended at the right edge (~5 µs a row,
 * `docs/performance.md`).
 *
 * RFC 9562 § 6.2 method 1: within one millisecond, `rand_a` is a counter that starts at a random
 * value (below 2,048, leaving room) and the random tail is drawn once per millisecond, so ids of the
 * same millisecond stay unique and ordered while a new random tail costs one `randomUUID()` per
 * millisecond, not per id. When the counter runs out, a fresh tail is drawn (uniqueness still holds;
 * order within that millisecond is then random).
 */
let cachedMs = -1;
let prefix = '';
let tail = '';
let counter = 0;

function refresh(now: number): void {
  const random = randomUUID();
  if (now !== cachedMs) {
    const time = now.toString(16).padStart(12, '0');
    prefix = `${time.slice(0, 8)}-${time.slice(8, 12)}-7`;
    cachedMs = now;
  }
  // `random` is xxxxxxxx-xxxx-4xxx-Nxxx-xxxxxxxxxxxx: its variant and random bits from index 18 on.
  tail = random.slice(18);
  counter = Number.parseInt(random.slice(15, 18), 16) & 0x7ff;
}

export function timeOrderedId(now: number = Date.now()): string {
  if (now !== cachedMs || counter > 0xfff) refresh(now);
  const id = prefix + counter.toString(16).padStart(3, '0') + tail;
  counter += 1;
  return id;
}
