export interface BoundedQueueWeight<T> {
  /** Total weight held at most (e.g. bytes); the oldest items are dropped to stay within it. */
  max: number;
  /** Weight of one item, e.g. `(line) => line.length`. */
  of: (item: T) => number;
}

/**
 * A fixed-capacity FIFO ring. When full, `push` evicts the oldest item (the newest events matter most
 * when a sink is behind) and reports how many it dropped, so that the caller can count the loss.
 * Optionally bounded by weight too (log lines by size: a line per 100-row request is ~12 KB, so a bound
 * in lines alone let 10,000 of them hold 120 MB). O(1) push and shift.
 */
export class BoundedQueue<T> {
  private readonly items: (T | undefined)[];
  private head = 0;
  private count = 0;
  private held = 0;

  constructor(
    readonly capacity: number,
    private readonly weight?: BoundedQueueWeight<T>,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('capacity must be an integer ≥ 1');
    this.items = new Array<T | undefined>(capacity);
  }

  get size(): number {
    return this.count;
  }

  /** Total weight held (0 without a weight bound). */
  get weightHeld(): number {
    return this.held;
  }

  /**
   * Appends; returns how many of the oldest items had to be dropped to make room (0 or more; an item
   * heavier than the whole weight bound is dropped itself and counts as one).
   */
  push(item: T): number {
    let dropped = 0;
    if (this.weight !== undefined) {
      const weight = this.weight.of(item);
      if (weight > this.weight.max) return 1;
      while (this.count > 0 && this.held + weight > this.weight.max) {
        this.dropOldest();
        dropped += 1;
      }
      this.held += weight;
    }
    if (this.count === this.capacity) {
      this.dropOldest();
      dropped += 1;
    }
    this.items[(this.head + this.count) % this.capacity] = item;
    this.count += 1;
    return dropped;
  }

  /** Removes and returns up to `max` of the oldest items. */
  shift(max: number): T[] {
    const taken = Math.min(max, this.count);
    const out = new Array<T>(taken);
    for (let index = 0; index < taken; index += 1) {
      const item = this.items[this.head] as T;
      out[index] = item;
      if (this.weight !== undefined) this.held -= this.weight.of(item);
      this.items[this.head] = undefined;
      this.head = (this.head + 1) % this.capacity;
    }
    this.count -= taken;
    return out;
  }

  /**
   * Removes and returns the oldest items while their total weight stays within `maxWeight`, at most
   * `max` of them, and at least one when the queue is not empty.
   */
  shiftWithin(max: number, maxWeight: number): T[] {
    if (this.weight === undefined) return this.shift(max);
    let taken = 0;
    let total = 0;
    while (taken < Math.min(max, this.count)) {
      const next = this.weight.of(this.items[(this.head + taken) % this.capacity] as T);
      if (taken > 0 && total + next > maxWeight) break;
      total += next;
      taken += 1;
    }
    return this.shift(taken);
  }

  /**
   * Puts items back at the front (a batch that must be retried). Items beyond the capacity (or the
   * weight bound) are the oldest and are not kept; returns how many were not kept.
   */
  unshift(items: readonly T[]): number {
    let kept = 0;
    for (let index = items.length - 1; index >= 0 && this.count < this.capacity; index -= 1) {
      const item = items[index] as T;
      if (this.weight !== undefined) {
        const weight = this.weight.of(item);
        if (this.held + weight > this.weight.max) break;
        this.held += weight;
      }
      this.head = (this.head - 1 + this.capacity) % this.capacity;
      this.items[this.head] = item;
      this.count += 1;
      kept += 1;
    }
    return items.length - kept;
  }

  clear(): void {
    this.items.fill(undefined);
    this.head = 0;
    this.count = 0;
    this.held = 0;
  }

  private dropOldest(): void {
    const item = this.items[this.head] as T;
    if (this.weight !== undefined) this.held -= this.weight.of(item);
    this.items[this.head] = undefined;
    this.head = (this.head + 1) % this.capacity;
    this.count -= 1;
  }
}
