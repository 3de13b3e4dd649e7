import {
  context,
  createTraceState,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type Sampler,
  SamplingDecision,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import {
  type EncodedSpanExporter,
  EncodingSpanProcessor,
  type SpanBatch,
  type SpanBatchSettings,
} from './encoded-span-processor';

/**
 * Records what it is asked to export, read at once as the OTLP delegate reads it (the batch is the
 * processor's again after the callback); answers with `result`.
 */
class CapturingExporter implements EncodedSpanExporter {
  readonly batches: SpanBatch[] = [];
  readonly counts: number[] = [];
  readonly requests: unknown[] = [];
  result: ExportResult = { code: ExportResultCode.SUCCESS };
  export(batch: SpanBatch, resultCallback: (result: ExportResult) => void): void {
    this.batches.push(batch);
    this.counts.push(batch.count);
    this.requests.push(JSON.parse(batch.exportRequest().toString('utf8')));
    resultCallback(this.result);
  }
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** Samples every span except those named `unsampled`, which are recorded only (they reach `onEnd`). */
const sampler: Sampler = {
  shouldSample: (_context, _traceId, name) => ({
    decision: name === 'unsampled' ? SamplingDecision.RECORD : SamplingDecision.RECORD_AND_SAMPLED,
  }),
  toString: () => 'test',
};

function provider(
  processor: EncodingSpanProcessor,
  reference?: InMemorySpanExporter,
  schemaUrl?: string,
): BasicTracerProvider {
  return new BasicTracerProvider({
    resource: resourceFromAttributes(
      { 'service.name': 'vigil', 'service.version': '1.2.3', pid: 42 },
      schemaUrl === undefined ? undefined : { schemaUrl },
    ),
    sampler,
    spanProcessors: reference === undefined ? [processor] : [new SimpleSpanProcessor(reference), processor],
  });
}

/** A processor exporting to a `CapturingExporter`, and a tracer feeding it. */
function capturing(
  settings: SpanBatchSettings,
  onFailure?: () => void,
): { exporter: CapturingExporter; processor: EncodingSpanProcessor; tracer: Tracer } {
  const exporter = new CapturingExporter();
  const processor = new EncodingSpanProcessor(exporter, settings, onFailure);
  return { exporter, processor, tracer: provider(processor).getTracer('vigil') };
}

/** What OpenTelemetry's own JSON serializer makes of the spans `reference` captured. */
function officialJson(reference: InMemorySpanExporter): unknown {
  const bytes = JsonTraceSerializer.serializeRequest(reference.getFinishedSpans())!;
  return JSON.parse(Buffer.from(bytes).toString('utf8')) as unknown;
}

describe('EncodingSpanProcessor', () => {
  it('writes the OTLP/JSON export request the OpenTelemetry serializer writes of the same spans', async () => {
    const exporter = new CapturingExporter();
    const reference = new InMemorySpanExporter();
    const processor = new EncodingSpanProcessor(exporter, {
      maxQueueSize: 100,
      maxExportBatchSize: 100,
      scheduledDelayMillis: 60_000,
    });
    const tracers = provider(processor, reference);
    const tracer = tracers.getTracer('vigil');
    const other = tracers.getTracer('other', '0.9.1', {
      schemaUrl: 'https://opentelemetry.io/schemas/1.24.0',
    });

    const root = tracer.startSpan('POST /v1/models/:name/predict', {
      kind: SpanKind.SERVER,
      attributes: {
        'http.route': '/v1/models/:name/predict',
        'http.response.status_code': 200,
        'vigil.ratio': 0.25,
        'vigil.flag': true,
        'vigil.list': ['a', 'b "quoted"'],
        'vigil.numbers': [1, 2.5],
        'vigil.unicode': 'é ✓ \u2028',
      },
      links: [
        {
          context: {
            traceId: 'a'.repeat(32),
            spanId: 'b'.repeat(16),
            traceFlags: TraceFlags.SAMPLED,
            isRemote: true,
            traceState: createTraceState('vendor=1'),
          },
          attributes: { reason: 'batch' },
        },
      ],
    });
    root.addEvent('checked', { rows: 3 });
    root.addEvent('plain');
    root.setStatus({ code: SpanStatusCode.ERROR, message: 'model "x" failed' });
    const child = tracer.startSpan('predict.inference', {}, trace.setSpan(ROOT_CONTEXT, root));
    child.end();
    root.end();
    const remote = trace.setSpanContext(context.active(), {
      traceId: 'c'.repeat(32),
      spanId: 'd'.repeat(16),
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
      traceState: createTraceState('k=v'),
    });
    other.startSpan('from a remote parent', { kind: SpanKind.CLIENT }, remote).end();

    await processor.forceFlush();
    expect(exporter.counts).toEqual([3]);
    expect(exporter.requests[0]).toEqual(officialJson(reference));
    await tracers.shutdown();
  });

  it('keeps the resource schema URL, as the serializer does', async () => {
    const exporter = new CapturingExporter();
    const reference = new InMemorySpanExporter();
    const processor = new EncodingSpanProcessor(exporter, {
      maxQueueSize: 10,
      maxExportBatchSize: 10,
      scheduledDelayMillis: 60_000,
    });
    const tracers = provider(processor, reference, 'https://opentelemetry.io/schemas/1.30.0');
    tracers.getTracer('vigil').startSpan('one').end();
    await processor.forceFlush();
    expect(exporter.requests[0]).toEqual(officialJson(reference));
    await tracers.shutdown();
  });

  it('exports full batches at once, the rest after the delay, drops beyond the queue and counts failures', async () => {
    let failures = 0;
    const { exporter, tracer } = capturing(
      { maxQueueSize: 4, maxExportBatchSize: 3, scheduledDelayMillis: 20 },
      () => (failures += 1),
    );
    tracer.startSpan('unsampled').end(); // recorded, not sampled: never queued
    for (let index = 0; index < 3; index += 1) tracer.startSpan(`span ${index}`).end();
    await new Promise(setImmediate);
    expect(exporter.counts).toEqual([3]);
    tracer.startSpan('late').end();
    expect(exporter.counts).toHaveLength(1); // waits for the delay
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(exporter.counts).toEqual([3, 1]);

    // A held export: the queue (4) fills behind it, and what comes after is dropped.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const holding: EncodedSpanExporter = {
      export: (batch, done) => {
        exporter.counts.push(batch.count);
        void held.then(() => done({ code: ExportResultCode.FAILED }));
      },
      forceFlush: () => Promise.resolve(),
      shutdown: () => Promise.resolve(),
    };
    const slow = new EncodingSpanProcessor(
      holding,
      { maxQueueSize: 4, maxExportBatchSize: 3, scheduledDelayMillis: 20 },
      () => (failures += 1),
    );
    const slowTracer = provider(slow).getTracer('vigil');
    for (let index = 0; index < 8; index += 1) slowTracer.startSpan(`queued ${index}`).end();
    expect(slow.dropped).toBe(1); // 3 in flight, 4 waiting, 1 dropped
    release();
    await slow.forceFlush();
    expect(exporter.counts.slice(2)).toEqual([3, 3, 1]);
    expect(failures).toBe(3);
  });

  it('a timed export takes what is queued then, not every span that arrives while it runs', async () => {
    const batches: number[] = [];
    let release: (() => void) | undefined;
    const holding: EncodedSpanExporter = {
      export: (batch, done) => {
        batches.push(batch.count);
        release = () => done({ code: ExportResultCode.SUCCESS });
      },
      forceFlush: () => Promise.resolve(),
      shutdown: () => Promise.resolve(),
    };
    const processor = new EncodingSpanProcessor(holding, {
      maxQueueSize: 100,
      maxExportBatchSize: 50,
      scheduledDelayMillis: 20,
    });
    const tracer = provider(processor).getTracer('vigil');
    tracer.startSpan('first').end();
    await new Promise((resolve) => setTimeout(resolve, 40)); // the delay: the open batch goes
    expect(batches).toEqual([1]);
    for (let round = 0; round < 3; round += 1) {
      tracer.startSpan('meanwhile').end(); // load continues during the export
      release!();
      await new Promise(setImmediate);
    }
    // Not one export per span that arrived: they wait for the next delay (or a full batch).
    expect(batches).toEqual([1]);
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(batches).toEqual([1, 3]);
    release!();
    await processor.forceFlush();
  });

  it('caps the batch size at the queue size, as the batch processor does', async () => {
    const { exporter, processor, tracer } = capturing({
      maxQueueSize: 3,
      maxExportBatchSize: 500,
      scheduledDelayMillis: 60_000,
    });
    for (let index = 0; index < 3; index += 1) tracer.startSpan(`span ${index}`).end();
    await new Promise(setImmediate);
    expect(exporter.counts).toEqual([3]);
    await processor.forceFlush();
  });

  it('fills an exported batch again: its buffer is reused, and the next export holds only the new spans', async () => {
    const { exporter, processor, tracer } = capturing({
      maxQueueSize: 100,
      maxExportBatchSize: 2,
      scheduledDelayMillis: 60_000,
    });
    // Long names: the first batch's buffer grows past its initial 64 KB.
    tracer.startSpan('a'.repeat(40_000)).end();
    tracer.startSpan('b'.repeat(40_000)).end();
    await new Promise(setImmediate);
    const grown = exporter.batches[0]!.capacity;
    expect(grown).toBeGreaterThan(64 * 1024);
    tracer.startSpan('c').end();
    tracer.startSpan('d').end();
    await new Promise(setImmediate);

    expect(exporter.counts).toEqual([2, 2]);
    expect(exporter.batches[1]).toBe(exporter.batches[0]); // the same batch, cleared and filled again
    expect(exporter.batches[1]!.capacity).toBe(grown); // with the buffer it grew to
    const names = (request: unknown): string[] =>
      (request as { resourceSpans: { scopeSpans: { spans: { name: string }[] }[] }[] }).resourceSpans
        .flatMap((resource) => resource.scopeSpans)
        .flatMap((scope) => scope.spans.map((span) => span.name));
    expect(names(exporter.requests[0])).toEqual(['a'.repeat(40_000), 'b'.repeat(40_000)]);
    expect(names(exporter.requests[1])).toEqual(['c', 'd']);
    await processor.forceFlush();
  });
});
