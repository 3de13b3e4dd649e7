/** @jest-environment ./test/support/onnxruntime.environment.js */
/**
 * PostgreSQL lost during traffic, through a TCP proxy (the shared server on 127.0.0.1:5432 is never
 * restarted): predictions keep flowing from the loaded models, the pool reconnects, every prediction
 * made during the outage is stored afterwards (queued and retried), and feedback refused during the
 * outage (503 + Retry-After, so the client keeps it) is accepted afterwards.
 */
import { rmSync } from 'node:fs';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Client } from 'pg';
import { predictionIdCandidates, resolvePredictionId } from '../../src/monitoring/domain/prediction-id';
import { bootApp, IRIS, metricSum, sleep, TcpProxy, tempDir, until } from '../reliability/harness';

const ADMIN_URL = 'postgres://root@127.0.0.1:5432/test';
const DATABASE = `vigil_fault_pg_${process.pid}`;

describe('PostgreSQL connection lost during traffic (in-process, real PostgreSQL behind a proxy)', () => {
  let app: NestFastifyApplication;
  let proxy: TcpProxy;
  let dataDir: string;

  beforeAll(async () => {
    const admin = new Client({ connectionString: ADMIN_URL });
    await admin.connect().catch((error: Error) => {
      throw new Error(
        `PostgreSQL is not reachable on 127.0.0.1:5432 (${error.message}): run \`make system-deps\``,
      );
    });
    await admin.query(`DROP DATABASE IF EXISTS ${DATABASE}`);
    await admin.query(`CREATE DATABASE ${DATABASE}`);
    await admin.end();
    proxy = new TcpProxy(5432);
    const port = await proxy.start();
    dataDir = tempDir('fault-postgres');
    app = await bootApp({
      DATA_DIR: dataDir,
      DATABASE_URL: `postgres://root@127.0.0.1:${port}/${DATABASE}`,
      PREDICTION_STORE_ENABLED: true,
      REGISTRY_POLL_INTERVAL_MS: 200,
    });
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await proxy?.stop();
    rmSync(dataDir, { recursive: true, force: true });
    const admin = new Client({ connectionString: ADMIN_URL });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`);
    await admin.end();
  });

  const predict = (requestId: string) =>
    app.inject({
      method: 'POST',
      url: '/predict',
      payload: IRIS,
      headers: { 'content-type': 'application/json', 'x-request-id': requestId },
    });
  const feedback = (predictionId: string) =>
    app.inject({
      method: 'POST',
      url: '/v1/feedback',
      payload: { predictionId, label: 'setosa' },
      headers: { 'content-type': 'application/json' },
    });

  async function storedCount(ids: readonly string[]): Promise<number> {
    const client = new Client({ connectionString: `postgres://root@127.0.0.1:5432/${DATABASE}` });
    await client.connect();
    try {
      const candidates = ids.flatMap((id) => predictionIdCandidates(id).map((ref) => ref.batchId));
      const result = await client.query<{ batch_id: string; row_count: number }>(
        'SELECT batch_id, row_count FROM prediction_batches WHERE batch_id = ANY($1)',
        [candidates],
      );
      const rowCounts = new Map(result.rows.map((row) => [row.batch_id, Number(row.row_count)]));
      return ids.filter((id) => resolvePredictionId(id, (batchId) => rowCounts.get(batchId))).length;
    } finally {
      await client.end();
    }
  }

  it('predictions flow through a 3 s outage, all are stored after it, feedback refused with 503 is accepted after', async () => {
    const predictionIds: string[] = [];
    const statuses: number[] = [];
    const run = async (phase: string, rounds: number): Promise<void> => {
      for (let round = 0; round < rounds; round += 1) {
        const answers = await Promise.all(
          Array.from({ length: 20 }, (_, index) => predict(`${phase}-${round}-${index}`)),
        );
        for (const answer of answers) {
          statuses.push(answer.statusCode);
          if (answer.statusCode === 200)
            predictionIds.push(
              ...answer
                .json<{ predictions: { predictionId: string }[] }>()
                .predictions.map((prediction) => prediction.predictionId),
            );
        }
        await sleep(25);
      }
    };

    await run('before', 10);
    const beforeOutage = [...predictionIds];
    await until(
      async () => (await storedCount(beforeOutage)) === beforeOutage.length,
      10_000,
      'pre-outage rows stored',
    );

    proxy.cut();
    const outageStarted = Date.now();
    await run('during', 40);
    const duringIds = predictionIds.slice(beforeOutage.length);
    const refused = await feedback(duringIds[0]!);
    const readiness = await app.inject({ method: 'GET', url: '/health/ready' });
    const metricsDuring = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    await sleep(Math.max(0, 3000 - (Date.now() - outageStarted)));
    proxy.restore();

    await run('after', 10);
    expect(statuses.filter((status) => status !== 200)).toEqual([]);
    expect(predictionIds).toHaveLength(60 * 20);

    // Feedback needs the store: refused while it is down, with a status that tells the client to retry.
    expect(refused.statusCode).toBe(503);
    expect(refused.json()).toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE' });
    expect(refused.headers['retry-after']).toBeDefined();
    expect(metricSum(metricsDuring, 'vigil_prediction_store_queue_rows')).toBeGreaterThan(0);
    process.stdout.write(`readiness during the outage: ${readiness.statusCode}\n`);

    // Reconnected: everything queued during the outage is written; nothing was dropped.
    await until(
      async () => (await storedCount(predictionIds)) === predictionIds.length,
      45_000,
      'all rows stored',
    );
    const metricsAfter = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metricSum(metricsAfter, 'vigil_prediction_store_dropped_total')).toBe(0);
    await until(
      async () => (await app.inject({ method: 'GET', url: '/health/ready' })).statusCode === 200,
      10_000,
      'ready again',
    );

    const accepted = await feedback(duringIds[0]!);
    expect(accepted.statusCode).toBe(200);
    expect(accepted.json()).toMatchObject({ created: 1 });
    expect(proxy.connections).toBeGreaterThan(1);
  }, 90_000);
});
