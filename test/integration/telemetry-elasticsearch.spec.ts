import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client, errors } from '@elastic/elasticsearch';
import Mock, { type MockPattern } from '@elastic/elasticsearch-mock';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { makeConfig } from '../../src/config/config';
import { PredictionBatch, type PredictionRecord } from '../../src/prediction/prediction-events';
import type { BulkSender } from '../../src/telemetry/elasticsearch-log.shipper';
import { LogPipeline } from '../../src/telemetry/log-pipeline';
import { AppLogger } from '../../src/telemetry/logger';
import { Metrics } from '../../src/telemetry/metrics';
import { createTelemetryHarness, ecsProblems } from './telemetry-harness';

/**
 * Log shipping against the real `_bulk` protocol: the official client's mock checks the payload; a
 * local `node:http` server plays an Elasticsearch that refuses, hangs, throttles or fails.
 */

async function sample(metrics: Metrics, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = (await metrics.registry.getMetricsAsJSON()).find((candidate) => candidate.name === name);
  return (metric?.values ?? [])
    .filter((value) => Object.entries(labels).every(([key, expected]) => value.labels[key] === expected))
    .reduce((sum, value) => sum + value.value, 0);
}

async function waitFor(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 5000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A `BulkSender` through the official client (so that its mock sees exactly what we send). */
function clientSender(client: Client): BulkSender {
  return async (path, ndjson, signal) => {
    const [pathname = '', query = ''] = path.split('?');
    try {
      const response = await client.transport.request(
        {
          method: 'POST',
          path: pathname,
          querystring: Object.fromEntries(new URLSearchParams(query)),
          bulkBody: ndjson.toString('utf8'),
        },
        { meta: true, signal, maxRetries: 0 },
      );
      return { status: response.statusCode ?? 200, body: response.body };
    } catch (error) {
      if (error instanceof errors.ResponseError) return { status: error.statusCode ?? 500, body: error.body };
      throw error;
    }
  };
}

const record = (overrides: Partial<PredictionRecord> = {}): PredictionRecord => ({
  predictionId: 'p-1',
  requestId: 'r-1',
  traceId: '0af7651916cd43dd8448eb211c80319c',
  timestamp: Date.now(),
  model: 'credit',
  version: 2,
  inputs: { age: 40, income: 52000, purpose: 'car' },
  label: 'good',
  probabilities: [0.9, 0.1],
  score: 0.1,
  latencyMs: 0.8,
  ...overrides,
});

describe('Elasticsearch bulk payload (official client mock)', () => {
  it('sends NDJSON create actions with ECS documents that fit the index template', async () => {
    const mock = new Mock();
    const received: unknown[][] = [];
    mock.add({ method: 'POST', path: '/logs-vigil-test/_bulk' }, (params: MockPattern) => {
      const body = params.body as unknown[];
      received.push(body);
      const items = body
        .filter((_, index) => index % 2 === 1)
        .map((_, index) =>
          index === 1
            ? { create: { status: 400, error: { type: 'document_parsing_exception', reason: 'bad' } } }
            : { create: { status: 201 } },
        );
      return { errors: true, took: 1, items };
    });
    const client = new Client({ node: 'http://localhost:9200', Connection: mock.getConnection() });
    const metrics = new Metrics();
    const pipeline = new LogPipeline(
      makeConfig({ VIGIL_ENV: 'test', ELASTICSEARCH_URL: 'http://localhost:9200', LOG_BULK_SIZE: 100 }),
      metrics,
      { stream: null, elasticsearch: { sender: clientSender(client) } },
    );
    const logger = new AppLogger(pipeline);
    logger.info('Registered credit v2', {
      'event.action': 'model-register',
      'model.name': 'credit',
      'vigil.sha256': 'ab',
    });
    logger.error('Unhandled error', { error: new Error('boom'), 'http.request.id': 'r-9' });
    pipeline.write(
      pipeline.formatter.accessLine(
        'POST',
        '/v1/models/credit/predict',
        '/v1/models/:name/predict',
        200,
        812345,
        'r-1',
        'a'.repeat(32),
        'b'.repeat(16),
      ),
    );
    pipeline.write(
      pipeline.formatter.predictionLine(PredictionBatch.fromRecords([record()])[0]!, record().inputs),
    );
    await pipeline.close(2000);

    expect(received).toHaveLength(1);
    const body = received[0] as Record<string, unknown>[];
    expect(body).toHaveLength(8);
    const actions = body.filter((_, index) => index % 2 === 0);
    const documents = body.filter((_, index) => index % 2 === 1);
    expect(actions).toEqual(Array.from({ length: 4 }, () => ({ create: {} })));
    expect(documents.map((document) => document['log.level'])).toEqual(['info', 'error', 'info', 'info']);
    for (const document of documents) {
      expect(document['@timestamp']).toEqual(expect.any(String));
      expect(ecsProblems(document)).toEqual([]);
    }
    expect(await sample(metrics, 'vigil_log_events_shipped_total')).toBe(3);
    expect(await sample(metrics, 'vigil_log_events_dropped_total', { reason: 'rejected' })).toBe(1);
  });
});

type Behaviour = 'ok' | 'hang' | 'stall-body' | 'throttle-twice' | 'fail';

/** A local stand-in for Elasticsearch that records requests and behaves as told. */
class FakeElasticsearch {
  readonly requests: {
    url: string;
    headers: IncomingMessage['headers'];
    lines: string[];
    remotePort?: number;
  }[] = [];
  behaviour: Behaviour = 'ok';
  private throttled = 0;
  private readonly hanging: ServerResponse[] = [];
  private readonly server: Server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    request.on('end', () => {
      const lines = body.split('\n').filter((line) => line !== '');
      this.requests.push({
        url: request.url ?? '',
        headers: request.headers,
        lines,
        remotePort: request.socket.remotePort,
      });
      if (this.behaviour === 'hang') {
        this.hanging.push(response);
        return;
      }
      if (this.behaviour === 'stall-body') {
        // Headers and half a body, then nothing: the client's timeout must still end the request.
        response.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
        response.write('{"errors":false,"items":[');
        this.hanging.push(response);
        return;
      }
      if (this.behaviour === 'fail' || (this.behaviour === 'throttle-twice' && this.throttled < 2)) {
        this.throttled += 1;
        response.writeHead(this.behaviour === 'fail' ? 500 : 429, { 'content-type': 'application/json' });
        response.end('{"error":"nope"}');
        return;
      }
      const items = lines.filter((_, index) => index % 2 === 1).map(() => ({ create: { status: 201 } }));
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ errors: false, items }));
    });
  });

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://elastic:s3cret@127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  async stop(): Promise<void> {
    for (const response of this.hanging) response.destroy();
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
  get documents(): number {
    return this.requests.reduce((sum, request) => sum + request.lines.length / 2, 0);
  }
}

describe('Elasticsearch shipping against a misbehaving server', () => {
  const es = new FakeElasticsearch();
  let url: string;
  beforeAll(async () => {
    url = await es.start();
  });
  afterAll(async () => {
    await es.stop();
  });
  beforeEach(() => {
    es.requests.length = 0;
    es.behaviour = 'ok';
  });

  const pipelineFor = (target: string, metrics: Metrics, bufferMax = 100): LogPipeline =>
    new LogPipeline(
      makeConfig({
        VIGIL_ENV: 'test',
        ELASTICSEARCH_URL: target,
        LOG_BUFFER_MAX: bufferMax,
        LOG_BULK_SIZE: 20,
        LOG_FLUSH_INTERVAL_MS: 20,
      }),
      metrics,
      {
        stream: null,
        elasticsearch: {
          requestTimeoutMs: 200,
          retryBaseMs: 10,
          retryMaxMs: 50,
          breakerThreshold: 3,
          breakerCooldownMs: 200,
        },
      },
    );

  it('posts to the data stream with basic auth from the URL, and ships after 429s without losing events', async () => {
    es.behaviour = 'throttle-twice';
    const metrics = new Metrics();
    const pipeline = pipelineFor(url, metrics);
    for (let index = 0; index < 20; index += 1)
      pipeline.write(`{"@timestamp":"2026-01-01T00:00:00Z","n":${index}}`);
    await waitFor(async () => (await sample(metrics, 'vigil_log_events_shipped_total')) === 20, '20 shipped');
    await pipeline.close(500);
    expect(es.requests).toHaveLength(3);
    const first = es.requests[0]!;
    expect(first.url).toMatch(/^\/logs-vigil-test\/_bulk\?filter_path=/);
    expect(first.headers['content-type']).toBe('application/x-ndjson');
    expect(first.headers.authorization).toBe(`Basic ${Buffer.from('elastic:s3cret').toString('base64')}`);
    expect(first.lines[0]).toBe('{"create":{}}');
    expect(await sample(metrics, 'vigil_log_events_dropped_total')).toBe(0);
  });

  it('keeps the path of the URL (Elasticsearch behind a proxy) and ships every batch on one kept-alive connection', async () => {
    const metrics = new Metrics();
    const pipeline = pipelineFor(`${url}/elastic/`, metrics);
    for (let batch = 0; batch < 3; batch += 1) {
      for (let index = 0; index < 20; index += 1) pipeline.write(`{"batch":${batch},"n":${index}}`);
      await waitFor(
        async () => (await sample(metrics, 'vigil_log_events_shipped_total')) === 20 * (batch + 1),
        `batch ${batch} shipped`,
      );
    }
    await pipeline.close(500);
    expect(es.requests).toHaveLength(3);
    for (const request of es.requests) expect(request.url).toMatch(/^\/elastic\/logs-vigil-test\/_bulk\?/);
    expect(new Set(es.requests.map((request) => request.remotePort)).size).toBe(1);
    expect(es.documents).toBe(60);
  });

  it.each([
    ['refuses connections', 'refused'],
    ['hangs', 'hang'],
    ['stalls halfway through its answer', 'stall-body'],
    ['answers 500', 'fail'],
  ] as const)('stays bounded and counts every loss when Elasticsearch %s', async (_label, mode) => {
    let target = url;
    if (mode === 'refused') {
      const closed = createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      target = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
      await new Promise((resolve) => closed.close(resolve));
    } else {
      es.behaviour = mode;
    }
    const metrics = new Metrics();
    const pipeline = pipelineFor(target, metrics, 100);
    const total = 5000;
    for (let index = 0; index < total; index += 1) {
      pipeline.write(`{"n":${index}}`);
      // Bounded at every moment: the buffer plus the one batch in flight.
      if (index % 500 === 0) expect(pipeline.shipper!.pending).toBeLessThanOrEqual(100 + 20);
    }
    await waitFor(() => pipeline.shipper!.circuitState === 'open', 'the circuit to open');
    const shipped = await sample(metrics, 'vigil_log_events_shipped_total');
    const dropped = await sample(metrics, 'vigil_log_events_dropped_total', { sink: 'elasticsearch' });
    expect(shipped).toBe(0);
    expect(await sample(metrics, 'vigil_log_shipping_circuit_open')).toBe(1);
    // Every event is either still held or counted as dropped.
    expect(dropped + pipeline.shipper!.pending).toBe(total);
    expect(await sample(metrics, 'vigil_log_queue_events')).toBeLessThanOrEqual(120);
    await pipeline.close(100);
  });

  it('serves requests unchanged while Elasticsearch hangs', async () => {
    es.behaviour = 'hang';
    const config = makeConfig({
      VIGIL_ENV: 'test',
      ELASTICSEARCH_URL: url,
      LOG_BUFFER_MAX: 50,
      LOG_BULK_SIZE: 10,
      LOG_FLUSH_INTERVAL_MS: 20,
      OTEL_SDK_DISABLED: true,
    });
    const app: NestFastifyApplication = await createTelemetryHarness(config, {
      stream: null,
      elasticsearch: { requestTimeoutMs: 200, breakerThreshold: 2, breakerCooldownMs: 200 },
    });
    try {
      const statuses: number[] = [];
      for (let round = 0; round < 10; round += 1) {
        const responses = await Promise.all(
          Array.from({ length: 20 }, () =>
            app.inject({ method: 'POST', url: '/predict/credit', payload: { age: 30, income: 1000 } }),
          ),
        );
        statuses.push(...responses.map((response) => response.statusCode));
      }
      expect(statuses).toHaveLength(200);
      expect(new Set(statuses)).toEqual(new Set([201]));
      const metrics = app.get(Metrics);
      // 200 access lines + 200 prediction events against a buffer of 50.
      expect(
        await sample(metrics, 'vigil_log_events_dropped_total', {
          sink: 'elasticsearch',
          reason: 'buffer_full',
        }),
      ).toBeGreaterThan(0);
      expect(app.get(LogPipeline).shipper!.pending).toBeLessThanOrEqual(60);
      const scrape = await app.inject({ method: 'GET', url: '/metrics' });
      expect(scrape.body).toMatch(/^vigil_log_queue_events \d+$/m);
    } finally {
      await app.close();
    }
  });
});
