/**
 * Runs `work` and counts the turns the event loop took meanwhile (a `setImmediate` chain): none when
 * `work` only awaits settled promises, as with SQLite queries, which better-sqlite3 answers at once.
 */
export async function turnsDuring<T>(work: () => Promise<T>): Promise<{ value: T; turns: number }> {
  let turns = 0;
  let counting = true;
  const count = (): void => {
    turns += 1;
    if (counting) setImmediate(count);
  };
  setImmediate(count);
  try {
    const value = await work();
    return { value, turns };
  } finally {
    counting = false;
    // The chain's last callback runs here, not inside the next caller's count.
    await new Promise((resolve) => setImmediate(resolve));
  }
}
