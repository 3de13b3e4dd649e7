import { timeOrderedId } from './time-ordered-id';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('timeOrderedId', () => {
  it('is a UUID version 7 with the RFC 9562 variant', () => {
    for (let index = 0; index < 1000; index++) expect(timeOrderedId()).toMatch(UUID_V7);
  });

  it('carries the milliseconds in its first 48 bits', () => {
    const at = Date.UTC(2026, 10, 23, 10, 0, 0, 123);
    const id = timeOrderedId(at);
    expect(Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16)).toBe(at);
  });

  it('sorts by creation time across milliseconds', () => {
    const ids = [0, 1, 255, 256, 65_535, 1_700_000_000_000, 1_700_000_000_001, 2 ** 48 - 1].map((at) =>
      timeOrderedId(at),
    );
    expect([...ids].sort()).toEqual(ids);
  });

  it('does not repeat within one millisecond', () => {
    const ids = new Set(Array.from({ length: 10_000 }, () => timeOrderedId(1_700_000_000_000)));
    expect(ids.size).toBe(10_000);
  });
});

describe('timeOrderedId within one millisecond', () => {
  it('counts up, so ids made one after the other sort in that order', () => {
    const at = 1_800_000_000_000;
    const ids = Array.from({ length: 1000 }, () => timeOrderedId(at));
    expect([...ids].sort()).toEqual(ids);
  });

  it('draws a new random tail when the counter runs out, never repeating an id', () => {
    const at = 1_800_000_000_001;
    const ids = Array.from({ length: 9000 }, () => timeOrderedId(at));
    expect(new Set(ids).size).toBe(9000);
    expect(new Set(ids.map((id) => id.slice(18))).size).toBeGreaterThan(1);
  });
});
