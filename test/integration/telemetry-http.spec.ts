import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { makeConfig } from '../../src/config/config';
import { LogPipeline } from '../../src/telemetry/log-pipeline';
import { startTracing, type TracingHandle } from '../../src/telemetry/tracing';
import { createTelemetryHarness, ecsProblems, LineCollector } from './telemetry-harness';

/**
 * The telemetry wiring over real HTTP (the OpenTelemetry HTTP instrumentation sees only real sockets):
 * metrics, response headers, access log, application log, prediction events, spans.
 */

describe('HTTP telemetry (integration)', () => {
  const exporter = new InMemorySpanExporter();
  const output = new LineCollector();
  let tracing: TracingHandle;
  let app: NestFastifyApplication;
  let base: string;

  beforeAll(async () => {
    const config = makeConfig({
      VIGIL_ENV: 'test',
      OTEL_TRACES_SAMPLER: 'always_on',
      PRIVACY_DROP_FIELDS: 'name',
      PRIVACY_HASH_FIELDS: 'income',
      PRIVACY_HASH_SALT: 'pepper',
    });
    tracing = startTracing(config, { exporter, simpleProcessor: true });
    app = await createTelemetryHarness(config, { stream: output });
    await app.listen({ port: 0, host: '127.0.0.1' });
    base = await app.getUrl();
    base = base.replace('[::1]', '127.0.0.1');
  });
  afterAll(async () => {
    await app.close();
    await tracing.shutdown();
  });

  /** The onResponse hooks of the last requests have run; then what stdout would get is written. */
  const flushLogs = async (): Promise<void> => {
    await new Promise((resolve) => setImmediate(resolve));
    app.get(LogPipeline).flush();
  };

  it('measures requests by route template and status, never by raw URL', async () => {
    for (let i = 0; i < 3; i += 1) expect((await fetch(`${base}/hello`)).status).toBe(200);
    expect((await fetch(`${base}/items/41`)).status).toBe(200);
    expect((await fetch(`${base}/items/42?x=1`)).status).toBe(200);
    expect((await fetch(`${base}/no/such/route`)).status).toBe(404);
    expect((await fetch(`${base}/boom`)).status).toBe(404);

    const scrape = await fetch(`${base}/metrics`);
    expect(scrape.status).toBe(200);
    expect(scrape.headers.get('content-type')).toContain('text/plain');
    const text = await scrape.text();
    const sample = (name: string): number => {
      const line = text.split('\n').find((candidate) => candidate.startsWith(`${name} `));
      if (line === undefined) throw new Error(`no sample ${name}`);
      return Number(line.slice(name.length + 1));
    };
    const duration = 'http_server_request_duration_seconds';
    expect(sample(`${duration}_count{method="GET",route="/hello",status_code="200"}`)).toBe(3);
    expect(sample(`${duration}_count{method="GET",route="/items/:id",status_code="200"}`)).toBe(2);
    expect(sample(`${duration}_count{method="GET",route="unmatched",status_code="404"}`)).toBe(1);
    expect(sample(`${duration}_count{method="GET",route="/boom",status_code="404"}`)).toBe(1);
    const sum = sample(`${duration}_sum{method="GET",route="/hello",status_code="200"}`);
    expect(sum).toBeGreaterThan(0);
    expect(sum).toBeLessThan(10);
    expect(
      sample(`${duration}_bucket{le="0.0001",method="GET",route="/hello",status_code="200"}`),
    ).toBeLessThanOrEqual(3);
    expect(sample(`${duration}_bucket{le="+Inf",method="GET",route="/hello",status_code="200"}`)).toBe(3);
    expect(text).not.toContain('/items/41');
    expect(text).not.toContain('/no/such/route');
    // The scrape itself is the one request in flight.
    expect(sample('http_server_active_requests{method="GET"}')).toBe(1);
    // Pipeline health and Node defaults.
    expect(sample('vigil_trace_export_failures_total')).toBe(0);
    expect(sample('vigil_log_queue_events')).toBe(0);
    expect(sample('vigil_log_shipping_circuit_open')).toBe(0);
    expect(text).toContain('# TYPE vigil_log_events_dropped_total counter');
    expect(text).toContain('# TYPE vigil_log_events_shipped_total counter');
    for (const name of [
      'process_cpu_user_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_heap_size_used_bytes',
      'nodejs_eventloop_lag_seconds',
    ])
      expect(text).toMatch(new RegExp(`^${name}`, 'm'));
    // Its samples appear only once a garbage collection has happened, which a short test may not see.
    expect(text).toContain('# TYPE nodejs_gc_duration_seconds histogram');
  });

  it('returns the trace id and continues the caller’s W3C trace', async () => {
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    const response = await fetch(`${base}/hello`, {
      headers: { traceparent: `00-${traceId}-b7ad6b7169203331-01`, 'x-request-id': 'req-123' },
    });
    expect(response.headers.get('x-trace-id')).toBe(traceId);
    expect(response.headers.get('x-request-id')).toBe('req-123');
    expect(response.headers.get('traceresponse')).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    await tracing.forceFlush();
    const server = exporter.getFinishedSpans().find((span) => span.spanContext().traceId === traceId);
    expect(server?.name).toBe('GET /hello');
    expect(server?.parentSpanContext?.spanId).toBe('b7ad6b7169203331');
    expect(server?.attributes['http.route']).toBe('/hello');
    expect(server?.attributes['http.response.status_code']).toBe(200);
  });

  it('traces a prediction: HTTP → predict.validate → predict.queue → predict.inference', async () => {
    exporter.reset();
    const response = await fetch(`${base}/predict/credit`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ age: 42, name: 'Bob', income: 1000 }),
    });
    expect(response.status).toBe(201);
    const traceId = response.headers.get('x-trace-id');
    await tracing.forceFlush();
    const spans = exporter.getFinishedSpans().filter((span) => span.spanContext().traceId === traceId);
    const byName = new Map<string, ReadableSpan>(spans.map((span) => [span.name, span]));
    const server = byName.get('POST /predict/:model');
    expect(server).toBeDefined();
    for (const child of ['predict.validate', 'predict.queue', 'predict.inference'])
      expect(byName.get(child)?.parentSpanContext?.spanId).toBe(server?.spanContext().spanId);
    expect(byName.get('predict.inference')?.attributes).toMatchObject({
      'model.name': 'credit',
      'model.version': 1,
      'inference.batch_size': 1,
    });
  });

  it('writes one ECS access line per request (not for /metrics), with trace and request ids', async () => {
    output.lines.length = 0;
    const response = await fetch(`${base}/items/7?token=secret`, { headers: { 'x-request-id': 'abc-1' } });
    await fetch(`${base}/metrics`);
    await fetch(`${base}/hello`, { headers: { 'x-request-id': 'abc-2' } });
    await flushLogs();
    // Lines of earlier requests may still arrive: this request's lines are the ones with its id.
    const access = output
      .parsed()
      .filter((line) => line['log.logger'] === 'vigil.access' && line['http.request.id'] === 'abc-1');
    expect(access).toHaveLength(1);
    expect(output.parsed().filter((line) => line['url.path'] === '/metrics')).toEqual([]);
    expect(access[0]).toMatchObject({
      'log.level': 'info',
      message: 'GET /items/7 200',
      'http.request.method': 'GET',
      'url.path': '/items/7',
      'http.route': '/items/:id',
      'http.response.status_code': 200,
      'http.request.id': 'abc-1',
      'trace.id': response.headers.get('x-trace-id'),
      'service.name': 'vigil',
      'service.environment': 'test',
      'ecs.version': expect.any(String),
    });
    expect(Number.isInteger(access[0]?.['event.duration'])).toBe(true);
    expect(access[0]?.['event.duration']).toBeGreaterThan(0);
    expect(output.lines.join('\n')).not.toContain('secret');
  });

  it('logs the application line with trace context and secrets redacted', async () => {
    output.lines.length = 0;
    await fetch(`${base}/boom`, { headers: { 'x-request-id': 'boom-1' } });
    await flushLogs();
    const lines = output.parsed();
    const app = lines.find((line) => line.message === 'about to fail');
    expect(app).toMatchObject({ 'log.level': 'info', authorization: '[REDACTED]', 'model.name': 'credit' });
    expect(app?.['trace.id']).toMatch(/^[0-9a-f]{32}$/);
    expect(lines.find((line) => line['http.request.id'] === 'boom-1')).toMatchObject({
      'log.level': 'warn',
      'http.response.status_code': 404,
      'event.outcome': 'failure',
    });
    expect(output.lines.join('\n')).not.toContain('abc.def');
  });

  it('writes one prediction event with the privacy policy applied', async () => {
    output.lines.length = 0;
    await fetch(`${base}/predict/credit`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ age: 42, name: 'Bob', income: 1000 }),
    });
    await flushLogs();
    const events = output.parsed().filter((line) => line['event.action'] === 'prediction');
    expect(events).toHaveLength(1);
    const event = events[0] as Record<string, unknown>;
    expect(event).toMatchObject({
      'log.logger': 'vigil.prediction',
      'model.name': 'credit',
      'model.version': '1',
      'prediction.label': 'good',
      'prediction.score': 0.8,
      'prediction.probabilities': [0.2, 0.8],
      'prediction.out_of_range': ['age'],
    });
    const inputs = event['prediction.inputs'] as Record<string, unknown>;
    expect(inputs.age).toBe(42);
    expect(inputs).not.toHaveProperty('name');
    expect(inputs.income).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(event)).not.toContain('Bob');
    expect(event['trace.id']).toMatch(/^[0-9a-f]{32}$/);
  });

  it('emits only lines that fit the Elasticsearch index template', async () => {
    output.lines.length = 0;
    await fetch(`${base}/hello`);
    await fetch(`${base}/boom`);
    await fetch(`${base}/nope`);
    await fetch(`${base}/predict/iris`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sepal_length: 5.1 }),
    });
    await fetch(`${base}/predict/credit`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        instances: [
          { age: 42, income: 1000 },
          { age: 43, name: 'Eve' },
        ],
      }),
    });
    await flushLogs();
    const lines = output.parsed();
    expect(lines.length).toBeGreaterThanOrEqual(8);
    // The multi-instance request wrote one event with arrays, and it fits the template too.
    const batchEvents = lines.filter((line) => line['prediction.count'] === 2);
    expect(batchEvents).toHaveLength(1);
    expect(batchEvents[0]!['prediction.label']).toEqual(['good', 'good']);
    expect(JSON.stringify(batchEvents[0])).not.toContain('Eve');
    // Fields a caller adds freely (authorization, here) are runtime fields in the template: allowed.
    const problems = lines.flatMap((line) =>
      ecsProblems(line).filter((problem) => !problem.startsWith('authorization:')),
    );
    expect(problems).toEqual([]);
  });
});
