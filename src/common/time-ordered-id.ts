import { randomUUID } from 'node:crypto';

/**
 * A UUID version 7 (RFC 9562): 48 bits of Unix milliseconds first, then random bits, so ids made later
 * sort later. Request and prediction ids are keys of the prediction store: random (v4) keys land all
 * over the B-tree indexes and cost SQLite ~40 µs per stored row once the table outgrows the page
 * cache; time-ordered keys are appended at the right edge (~5 µs a row, `docs/performance.md`).
 *
 * Built from `randomUUID()` (Node keeps a pool of random bytes, so it costs well under a microsecond):
 * its first 12 hex digits become the timestamp, and the version digit becomes 7. Ids made within the
 * same millisecond sort randomly among themselves, which keeps the index appends local all the same.
 */
let cachedMs = -1;
let cachedTime = '';

export function timeOrderedId(now: number = Date.now()): string {
  if (now !== cachedMs) {
    // The timestamp part changes once a millisecond: under load, many ids share it.
    const time = now.toString(16).padStart(12, '0');
    cachedTime = `${time.slice(0, 8)}-${time.slice(8, 12)}-7`;
    cachedMs = now;
  }
  return cachedTime + randomUUID().slice(15);
}
