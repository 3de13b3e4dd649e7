import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { makeConfig } from '../../src/config/config';
import { startTracing, type TracingHandle } from '../../src/telemetry/tracing';
import { createTelemetryHarness } from './telemetry-harness';

/** Spans as an OTLP/HTTP JSON receiver sees them (ids in hex, attributes as typed values). */
interface OtlpAttribute {
  key: string;
  value: { stringValue?: string; intValue?: string | number; doubleValue?: number; boolValue?: boolean };
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: OtlpAttribute[];
}
interface OtlpExport {
  resourceSpans: { resource: { attributes: OtlpAttribute[] }; scopeSpans: { spans: OtlpSpan[] }[] }[];
}

const attributes = (list: OtlpAttribute[]): Record<string, unknown> =>
  Object.fromEntries(
    list.map(({ key, value }) => [
      key,
      value.stringValue ??
        (value.intValue !== undefined ? Number(value.intValue) : (value.doubleValue ?? value.boolValue)),
    ]),
  );

/** A tiny OTLP/HTTP collector: decodes the JSON export requests it receives. */
class OtlpReceiver {
  readonly exports: OtlpExport[] = [];
  readonly contentTypes: string[] = [];
  private readonly server: Server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    request.on('end', () => {
      this.contentTypes.push(request.headers['content-type'] ?? '');
      if (request.url === '/v1/traces') this.exports.push(JSON.parse(body) as OtlpExport);
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{}');
    });
  });
  port = 0;
  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }
  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
  spans(): { span: OtlpSpan; resource: Record<string, unknown> }[] {
    return this.exports.flatMap((request) =>
      request.resourceSpans.flatMap((resourceSpans) =>
        resourceSpans.scopeSpans.flatMap((scope) =>
          scope.spans.map((span) => ({ span, resource: attributes(resourceSpans.resource.attributes) })),
        ),
      ),
    );
  }
}

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('trace export over OTLP/HTTP (integration)', () => {
  const receiver = new OtlpReceiver();
  let tracing: TracingHandle;
  let app: NestFastifyApplication;
  let base: string;

  beforeAll(async () => {
    await receiver.start();
    const config = makeConfig({
      VIGIL_ENV: 'staging',
      OTEL_TRACES_SAMPLER: 'always_on',
      OTEL_SERVICE_NAME: 'vigil-test',
      OTEL_BSP_SCHEDULE_DELAY: 50,
    });
    // The production exporter (`OTEL_TRACES_EXPORTER=otlp`); its transport reads its own variables.
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = `http://127.0.0.1:${receiver.port}`;
    process.env.OTEL_EXPORTER_OTLP_TIMEOUT = '500';
    tracing = startTracing(config);
    for (const name of ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_TIMEOUT'])
      delete process.env[name];
    app = await createTelemetryHarness(config, { stream: null });
    await app.listen({ port: 0, host: '127.0.0.1' });
    base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  });
  afterAll(async () => {
    await app.close();
    await tracing.shutdown();
    await receiver.stop().catch(() => undefined);
  });

  it('delivers the prediction trace tree with its attributes and resource', async () => {
    const response = await fetch(`${base}/predict/credit`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ age: 30 }),
    });
    expect(response.status).toBe(201);
    const traceId = response.headers.get('x-trace-id');
    await tracing.forceFlush();
    const ofTrace = () => receiver.spans().filter(({ span }) => span.traceId === traceId);
    await waitFor(() => ofTrace().length >= 4, 'four spans of the trace');
    expect(receiver.contentTypes[0]).toContain('application/json');
    const spans = ofTrace();
    const server = spans.find(({ span }) => span.name === 'POST /predict/:model');
    expect(server).toBeDefined();
    expect(server?.span.parentSpanId ?? '').toBe('');
    expect(attributes(server!.span.attributes)).toMatchObject({
      'http.route': '/predict/:model',
      'http.request.method': 'POST',
      'http.response.status_code': 201,
    });
    expect(server?.resource).toMatchObject({
      'service.name': 'vigil-test',
      'deployment.environment.name': 'staging',
    });
    for (const name of ['predict.validate', 'predict.queue', 'predict.inference']) {
      const child = spans.find(({ span }) => span.name === name);
      expect(child?.span.parentSpanId).toBe(server?.span.spanId);
    }
    const inference = spans.find(({ span }) => span.name === 'predict.inference');
    expect(attributes(inference!.span.attributes)).toMatchObject({
      'model.name': 'credit',
      'inference.batch_size': 1,
    });
  });

  it('keeps serving when the collector is down, and counts the failed exports', async () => {
    await receiver.stop();
    const statuses: number[] = [];
    for (let index = 0; index < 10; index += 1) statuses.push((await fetch(`${base}/hello`)).status);
    expect(statuses).toEqual(Array.from({ length: 10 }, () => 200));
    await tracing.forceFlush();
    let failures = 0;
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      const text = await (await fetch(`${base}/metrics`)).text();
      failures = Number(/^vigil_trace_export_failures_total (\d+)/m.exec(text)?.[1] ?? 0);
      if (failures > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(failures).toBeGreaterThan(0);
  });
});
