/** @jest-environment ./test/support/onnxruntime.environment.js */
/**
 * Telemetry faults at the service level (the shipper's own behaviour is tested in
 * telemetry-elasticsearch.spec.ts): Elasticsearch unreachable, hanging, answering 429 or 500, and the
 * trace collector down. Predictions are unaffected, every lost log event is counted, memory stays
 * bounded, and after a transient failure every event arrives.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { rmSync } from 'node:fs';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import {
  bootApp,
  freePort,
  heapAfterGc,
  IRIS,
  metricSum,
  predictIris,
  startServer,
  tempDir,
  until,
} from '../reliability/harness';

type Mode = 'ok' | 'hang' | '429' | '500';

/** A fake Elasticsearch `_bulk` endpoint whose answer can be switched; counts the events it accepted. */
class FakeElasticsearch {
  mode: Mode = 'ok';
  /** Fail this many bulk requests (with `mode`) before answering ok. */
  failuresLeft = Number.POSITIVE_INFINITY;
  accepted = 0;
  requests = 0;
  private readonly hanging: ServerResponse[] = [];
  private readonly server: Server = createServer((request, response) => this.handle(request, response));
  port = 0;

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    this.port = typeof address === 'object' && address !== null ? address.port : 0;
    return `http://127.0.0.1:${this.port}`;
  }

  async stop(): Promise<void> {
    for (const response of this.hanging) response.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      this.requests += 1;
      const failing = this.mode !== 'ok' && this.failuresLeft > 0;
      if (failing) this.failuresLeft -= 1;
      if (failing && this.mode === 'hang') {
        this.hanging.push(response);
        return;
      }
      if (failing) {
        response.writeHead(Number(this.mode), { 'content-type': 'application/json' });
        response.end('{"error":{"type":"es_rejected_execution_exception"}}');
        return;
      }
      const events =
        Buffer.concat(chunks)
          .toString('utf8')
          .split('\n')
          .filter((line) => line !== '').length / 2;
      this.accepted += events;
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          errors: false,
          items: Array.from({ length: events }, () => ({ create: { status: 201 } })),
        }),
      );
    });
  }
}

const LOG_BUFFER_MAX = 300;

describe('telemetry faults at the service level (in-process)', () => {
  let stdoutLines = 0;
  let stdoutSpy: jest.SpyInstance;

  beforeAll(() => {
    // Access and prediction events go to stdout too: count them (the ground truth) instead of printing.
    stdoutSpy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stdoutLines += String(chunk)
        .split('\n')
        .filter((line) => line.startsWith('{')).length;
      return true;
    });
  });
  afterAll(() => stdoutSpy.mockRestore());

  async function withApp(
    elasticsearchUrl: string,
    run: (app: NestFastifyApplication, linesAtBoot: number) => Promise<void>,
    bufferMax = LOG_BUFFER_MAX,
  ): Promise<void> {
    const dataDir = tempDir('fault-telemetry');
    const linesAtBoot = stdoutLines;
    const app = await bootApp({
      DATA_DIR: dataDir,
      ELASTICSEARCH_URL: elasticsearchUrl,
      LOG_LEVEL: 'info',
      ACCESS_LOG: true,
      PREDICTION_LOG: true,
      LOG_BUFFER_MAX: bufferMax,
      LOG_BULK_SIZE: 50,
      LOG_FLUSH_INTERVAL_MS: 20,
      PREDICTION_STORE_ENABLED: false,
    });
    try {
      await run(app, linesAtBoot);
    } finally {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }

  async function predictMany(app: NestFastifyApplication, count: number): Promise<number[]> {
    const statuses: number[] = [];
    for (let batch = 0; batch < count / 50; batch += 1) {
      const answers = await Promise.all(
        Array.from({ length: 50 }, () =>
          app.inject({
            method: 'POST',
            url: '/predict',
            payload: IRIS,
            headers: { 'content-type': 'application/json' },
          }),
        ),
      );
      statuses.push(...answers.map((answer) => answer.statusCode));
      // Let the pipeline's timers run between bursts, as they would under real traffic.
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    return statuses;
  }

  const metricsText = async (app: NestFastifyApplication): Promise<string> =>
    (await app.inject({ method: 'GET', url: '/metrics' })).body;

  for (const mode of ['unreachable', 'hang', '500'] as const) {
    it(`Elasticsearch ${mode}: 2,000 predictions all 200, queue bounded by LOG_BUFFER_MAX, drops counted, heap flat`, async () => {
      const fake = new FakeElasticsearch();
      const url = mode === 'unreachable' ? `http://127.0.0.1:${await freePort()}` : await fake.start();
      if (mode !== 'unreachable') fake.mode = mode;
      try {
        await withApp(url, async (app) => {
          await predictMany(app, 200);
          const heapBefore = heapAfterGc();
          const statuses = await predictMany(app, 2000);
          expect(statuses.filter((status) => status !== 200)).toEqual([]);
          await until(
            async () =>
              metricSum(await metricsText(app), 'vigil_log_events_dropped_total', 'sink="elasticsearch"') > 0,
            20_000,
            'elasticsearch drops counted',
          );
          const text = await metricsText(app);
          // The ring holds LOG_BUFFER_MAX events plus the one batch in flight.
          expect(metricSum(text, 'vigil_log_queue_events')).toBeLessThanOrEqual(LOG_BUFFER_MAX + 50);
          expect(metricSum(text, 'vigil_log_events_dropped_total', 'sink="stdout"')).toBe(0);
          expect(metricSum(text, 'vigil_log_events_shipped_total')).toBe(0);
          const growthMb = (heapAfterGc() - heapBefore) / 1_048_576;
          expect(growthMb).toBeLessThan(16);
        });
      } finally {
        await fake.stop().catch(() => undefined);
      }
    }, 60_000);
  }

  // The buffer holds the burst while the two failed requests are retried with backoff.
  for (const mode of ['429', '500'] as const) {
    it(`Elasticsearch answering ${mode} twice then recovering: every log event arrives (shipped = written to stdout), none dropped`, async () => {
      const fake = new FakeElasticsearch();
      const url = await fake.start();
      fake.mode = mode;
      fake.failuresLeft = 2;
      try {
        await withApp(
          url,
          async (app, linesAtBoot) => {
            const linesBefore = stdoutLines;
            const statuses = await predictMany(app, 500);
            expect(statuses.filter((status) => status !== 200)).toEqual([]);
            // Every request wrote an access line and a prediction event (both also go to stdout).
            await until(
              () => stdoutLines - linesBefore >= 1000 && fake.accepted >= stdoutLines - linesAtBoot,
              20_000,
              'all events shipped',
            );
            // The shipper counts a batch as shipped once it has read Elasticsearch's answer, a moment
            // after the fake counted it as accepted: wait for the two to agree (regression: a flaky
            // 1001 vs 1008 under CI load when read once).
            await until(
              async () =>
                metricSum(await metricsText(app), 'vigil_log_events_shipped_total') === fake.accepted,
              20_000,
              'shipped counter caught up',
            );
            const text = await metricsText(app);
            // Startup events included: everything written to stdout since boot reached Elasticsearch.
            expect(fake.accepted).toBe(stdoutLines - linesAtBoot);
            expect(fake.requests).toBeGreaterThan(2);
            expect(metricSum(text, 'vigil_log_events_dropped_total')).toBe(0);
            expect(metricSum(text, 'vigil_log_events_shipped_total')).toBe(fake.accepted);
          },
          5000,
        );
      } finally {
        await fake.stop();
      }
    }, 60_000);
  }
});

describe('trace collector down and Elasticsearch hanging (node dist/main.js)', () => {
  it('1,000 predictions all 200 with 100 % sampling; failed exports and dropped log events counted; RSS bounded', async () => {
    const fake = new FakeElasticsearch();
    fake.mode = 'hang';
    const elasticsearch = await fake.start();
    const collectorPort = await freePort();
    const dataDir = tempDir('fault-collector');
    const server = await startServer({
      DATA_DIR: dataDir,
      ELASTICSEARCH_URL: elasticsearch,
      OTEL_SDK_DISABLED: 'false',
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_TRACES_SAMPLER: 'always_on',
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${collectorPort}`,
      OTEL_BSP_SCHEDULE_DELAY: '200',
      OTEL_BSP_MAX_QUEUE_SIZE: '512',
      ACCESS_LOG: 'true',
      PREDICTION_LOG: 'true',
      LOG_BUFFER_MAX: '300',
      LOG_FLUSH_INTERVAL_MS: '50',
      PREDICTION_STORE_ENABLED: 'false',
    });
    try {
      const predict = () => predictIris(server.base).then((response) => response.status);
      const metrics = async () => (await fetch(`${server.base}/metrics`)).text();
      for (let index = 0; index < 4; index += 1) await Promise.all(Array.from({ length: 50 }, predict));
      const rssBefore = metricSum(await metrics(), 'process_resident_memory_bytes');
      const statuses: number[] = [];
      for (let index = 0; index < 20; index += 1)
        statuses.push(...(await Promise.all(Array.from({ length: 50 }, predict))));
      expect(statuses.filter((status) => status !== 200)).toEqual([]);
      await until(
        async () => metricSum(await metrics(), 'vigil_trace_export_failures_total') > 0,
        20_000,
        'trace export failures counted',
      );
      const text = await metrics();
      expect(metricSum(text, 'vigil_log_events_dropped_total', 'sink="elasticsearch"')).toBeGreaterThan(0);
      expect(metricSum(text, 'vigil_log_queue_events')).toBeLessThanOrEqual(300);
      const rssGrowthMb = (metricSum(text, 'process_resident_memory_bytes') - rssBefore) / 1_048_576;
      expect(rssGrowthMb).toBeLessThan(64);
      expect((await fetch(`${server.base}/health/ready`)).status).toBe(200);
    } finally {
      server.child.kill('SIGKILL');
      await server.exited;
      await fake.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 90_000);
});
