/**
 * HELPER_THREAD_NICE on the real server (node dist/main.js): once it is ready and has written a
 * prediction (the store's writer thread exists), every thread but the event loop's runs at the main
 * thread's nice value + HELPER_THREAD_NICE; with 0 none is touched.
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { metricSum, predictIris, startServer, tempDir, until } from '../reliability/harness';

/** Nice value of each thread of `pid` (field 19 of its stat line), by thread id. */
function threadNice(pid: number): Map<number, number> {
  const nice = new Map<number, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      nice.set(Number(tid), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]));
    } catch {
      // Ended meanwhile.
    }
  }
  return nice;
}

async function threadsAfterOnePrediction(
  helperNice: string,
): Promise<{ pid: number; nice: Map<number, number> }> {
  const dataDir = tempDir('thread-priority');
  const server = await startServer({
    DATA_DIR: dataDir,
    PREDICTION_STORE_ENABLED: 'true',
    HELPER_THREAD_NICE: helperNice,
  });
  try {
    const response = await predictIris(server.base);
    expect(response.status).toBe(200);
    const pid = server.child.pid!;
    // The writer thread starts with the store's first flush (≤ 1 s) and a rescan (≤ 5 s) lowers it.
    const written = async (): Promise<boolean> =>
      metricSum(
        await (await fetch(`${server.base}/metrics`)).text(),
        'vigil_prediction_store_written_total',
      ) >= 1;
    await until(written, 5000, 'the prediction written by the store');
    if (helperNice !== '0')
      await until(
        async () => {
          const nice = threadNice(pid);
          return [...nice].every(([tid, value]) => tid === pid || value > nice.get(pid)!);
        },
        8000,
        'every helper thread lowered',
      );
    return { pid, nice: threadNice(pid) };
  } finally {
    server.child.kill('SIGTERM');
    await server.exited;
    rmSync(dataDir, { recursive: true, force: true });
  }
}

describe('helper thread priority (node dist/main.js)', () => {
  it('runs every thread but the event loop at +HELPER_THREAD_NICE, the writer thread included', async () => {
    const { pid, nice } = await threadsAfterOnePrediction('7');
    // The server inherits this process's nice value (0 unless the runner is niced itself).
    const base = nice.get(pid)!;
    expect(base).toBe(threadNice(process.pid).get(process.pid));
    const helpers = [...nice].filter(([tid]) => tid !== pid);
    // V8's platform workers, libuv's pool, the writer: more than a handful, all lowered.
    expect(helpers.length).toBeGreaterThan(4);
    expect(new Set(helpers.map(([, value]) => value))).toEqual(new Set([Math.min(19, base + 7)]));
  }, 30_000);

  it('leaves every thread alone with HELPER_THREAD_NICE=0', async () => {
    const { pid, nice } = await threadsAfterOnePrediction('0');
    expect(new Set(nice.values())).toEqual(new Set([nice.get(pid)]));
  }, 30_000);
});
