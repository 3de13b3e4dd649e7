/**
 * SIGTERM under load (node dist/main.js): every request the server accepted is answered 200, new ones
 * get 503 SHUTTING_DOWN or a refused/reset connection (never processed), the prediction store is flushed (every answered
 * prediction is in the database after exit), and the process exits 0.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { predictIris, sleep, startServer, tempDir } from '../reliability/harness';

describe('SIGTERM under load (node dist/main.js)', () => {
  it('no accepted request fails, buffers are flushed, exit 0', async () => {
    const dataDir = tempDir('fault-sigterm');
    const server = await startServer({
      DATA_DIR: dataDir,
      PREDICTION_STORE_ENABLED: 'true',
      SHUTDOWN_TIMEOUT_MS: '8000',
      // A small delay keeps requests in flight at the moment of the signal.
      BATCH_MAX_DELAY_MS: '5',
    });
    const answered: string[] = [];
    /** Requests whose connection was reset: allowed only if the server never processed them. */
    const unanswered: string[] = [];
    const outcomes = new Map<string, number>();
    const count = (key: string): void => {
      outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
    };
    let stop = false;
    let sequence = 0;
    const worker = async (): Promise<void> => {
      while (!stop) {
        const requestId = `sigterm-${(sequence += 1)}`;
        try {
          const response = await predictIris(server.base, { 'x-request-id': requestId });
          const body = (await response.json()) as { code?: string };
          if (response.status === 200) {
            answered.push(requestId);
            count('200');
          } else count(`${response.status} ${body.code ?? ''}`);
        } catch (error) {
          const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
          count(`connection: ${cause}`);
          if (cause !== 'ECONNREFUSED') unanswered.push(requestId);
          // Refused: the listener is closed; nothing more to send.
          if (cause === 'ECONNREFUSED') return;
        }
      }
    };
    try {
      const workers = Array.from({ length: 16 }, worker);
      await sleep(1500);
      const answeredAtSignal = answered.length;
      server.child.kill('SIGTERM');
      const code = await server.exited;
      stop = true;
      await Promise.all(workers);
      process.stdout.write(
        `SIGTERM: ${answeredAtSignal} answered before the signal; outcomes ${JSON.stringify(Object.fromEntries(outcomes))}\n`,
      );
      expect(code).toBe(0);
      expect(answeredAtSignal).toBeGreaterThan(100);
      // Allowed answers: 200, or 503 SHUTTING_DOWN (refused, not accepted). A connection refused or
      // reset at the final close is allowed only for a request the server never processed (checked
      // below against the prediction store).
      const failures = [...outcomes.keys()].filter(
        (key) => key !== '200' && key !== '503 SHUTTING_DOWN' && !key.startsWith('connection: '),
      );
      expect(failures).toEqual([]);
      const database = new Database(join(dataDir, 'vigil.db'), { readonly: true });
      const stored = new Set(
        (
          database
            .prepare("SELECT request_id FROM prediction_batches WHERE request_id LIKE 'sigterm-%'")
            .all() as {
            request_id: string;
          }[]
        ).map((row) => row.request_id),
      );
      database.close();
      // Flushed: every answered prediction is stored. Not accepted: no reset request was processed.
      expect(answered.filter((requestId) => !stored.has(requestId))).toEqual([]);
      expect(unanswered.filter((requestId) => stored.has(requestId))).toEqual([]);
    } finally {
      stop = true;
      if (server.child.exitCode === null) server.child.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});
