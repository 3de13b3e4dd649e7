/**
 * A fixed-capacity FIFO ring. When full, `push` evicts the oldest item (the newest events matter most
 * when a sink is behind) and reports it, so that the caller can count the drop. O(1) push and shift.
 */
export class BoundedQueue<T> {
  private readonly items: (T | undefined)[];
  private head = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('capacity must be an integer ≥ 1');
    this.items = new Array<T | undefined>(capacity);
  }

  get size(): number {
    return this.count;
  }

  /** Appends; returns true when the oldest item had to be dropped to make room. */
  push(item: T): boolean {
    const tail = (this.head + this.count) % this.capacity;
    if (this.count === this.capacity) {
      this.items[tail] = item; // tail === head: overwrite the oldest
      this.head = (this.head + 1) % this.capacity;
      return true;
    }
    this.items[tail] = item;
    this.count += 1;
    return false;
  }

  /** Removes and returns up to `max` of the oldest items. */
  shift(max: number): T[] {
    const taken = Math.min(max, this.count);
    const out = new Array<T>(taken);
    for (let index = 0; index < taken; index += 1) {
      out[index] = this.items[this.head] as T;
      this.items[this.head] = undefined;
      this.head = (this.head + 1) % this.capacity;
    }
    this.count -= taken;
    return out;
  }

  /**
   * Puts items back at the front (a batch that must be retried). Items beyond the capacity are the
   * oldest and are not kept; returns how many were not kept.
   */
  unshift(items: readonly T[]): number {
    const room = this.capacity - this.count;
    const kept = Math.min(room, items.length);
    for (let index = items.length - 1; index >= items.length - kept; index -= 1) {
      this.head = (this.head - 1 + this.capacity) % this.capacity;
      this.items[this.head] = items[index];
    }
    this.count += kept;
    return items.length - kept;
  }

  clear(): void {
    this.items.fill(undefined);
    this.head = 0;
    this.count = 0;
  }
}
