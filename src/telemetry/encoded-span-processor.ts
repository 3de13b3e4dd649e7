import { type HrTime, type Link, type SpanContext, TraceFlags } from '@opentelemetry/api';
import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import {
  convertLegacyHttpOptions,
  createOtlpHttpExportDelegate,
} from '@opentelemetry/otlp-exporter-base/node-http';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan, SpanProcessor, TimedEvent } from '@opentelemetry/sdk-trace-base';

/** A resource or an instrumentation scope as OTLP/JSON, and the schema URL its spans are grouped under. */
export interface EncodedHead {
  readonly json: string;
  readonly schemaUrl: string | undefined;
}

/**
 * Ended spans as OTLP/JSON, written back to back as UTF-8 into one buffer (one export's worth), each
 * with the resource and instrumentation scope it is exported under. The text of a span, a rope of a few
 * dozen pieces, dies young; what waits for the export is bytes outside the JS heap and two references.
 * A batch is reused once exported (`clear`): its buffer, grown to an export's size, stays.
 */
export class SpanBatch {
  private bytes = Buffer.allocUnsafeSlow(64 * 1024);
  private used = 0;
  private readonly ends: number[] = [];
  private readonly resources: EncodedHead[] = [];
  private readonly scopes: EncodedHead[] = [];

  get count(): number {
    return this.ends.length;
  }

  /** Bytes of buffer held (what a batch kept for reuse costs). */
  get capacity(): number {
    return this.bytes.length;
  }

  /** Empties the batch for reuse, keeping its buffer. */
  clear(): void {
    this.used = 0;
    this.ends.length = 0;
    this.resources.length = 0;
    this.scopes.length = 0;
  }

  add(resource: EncodedHead, scope: EncodedHead, json: string): void {
    // A UTF-16 unit is at most three UTF-8 bytes: measure only when the room could be short.
    if (this.bytes.length - this.used < json.length * 3) {
      const need = Buffer.byteLength(json);
      if (this.bytes.length - this.used < need) {
        const grown = Buffer.allocUnsafeSlow(Math.max(this.bytes.length * 2, this.used + need));
        this.bytes.copy(grown, 0, 0, this.used);
        this.bytes = grown;
      }
    }
    this.used += this.bytes.write(json, this.used);
    this.ends.push(this.used);
    this.resources.push(resource);
    this.scopes.push(scope);
  }

  /** The OTLP/JSON `ExportTraceServiceRequest` of these spans, grouped by resource, then scope. */
  exportRequest(): Buffer {
    const byResource = new Map<EncodedHead, Map<EncodedHead, number[]>>();
    for (let index = 0; index < this.ends.length; index++) {
      const resource = this.resources[index]!;
      let scopes = byResource.get(resource);
      if (scopes === undefined) {
        scopes = new Map<EncodedHead, number[]>();
        byResource.set(resource, scopes);
      }
      let members = scopes.get(this.scopes[index]!);
      if (members === undefined) scopes.set(this.scopes[index]!, (members = []));
      members.push(index);
    }
    const pieces: Buffer[] = [];
    const text = (value: string): void => void pieces.push(Buffer.from(value));
    text('{"resourceSpans":[');
    let firstResource = true;
    for (const [resource, scopes] of byResource) {
      text(`${firstResource ? '' : ','}{"resource":${resource.json},"scopeSpans":[`);
      firstResource = false;
      let firstScope = true;
      for (const [scope, members] of scopes) {
        text(`${firstScope ? '' : ','}{"scope":${scope.json},"spans":[`);
        firstScope = false;
        members.forEach((index, position) => {
          if (position > 0) pieces.push(COMMA);
          pieces.push(this.bytes.subarray(index === 0 ? 0 : this.ends[index - 1], this.ends[index]));
        });
        text(`]${schemaUrlField(scope.schemaUrl)}}`);
      }
      text(`]${schemaUrlField(resource.schemaUrl)}}`);
    }
    text(']}');
    return Buffer.concat(pieces);
  }
}

const COMMA = Buffer.from(',');

/** Where encoded spans go: an OTLP export delegate (the exporter's transport, retries and settings). */
export interface EncodedSpanExporter {
  /**
   * Sends `batch`. The batch is the caller's again once `resultCallback` has been called (it is then
   * cleared and refilled): read it before, as the OTLP delegate does (`serializeRequest`, at once).
   */
  export(batch: SpanBatch, resultCallback: (result: ExportResult) => void): void;
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

/** `OTEL_BSP_*`, as `BatchSpanProcessor` uses them (the export timeout is the exporter's own). */
export interface SpanBatchSettings {
  maxQueueSize: number;
  /** Capped at `maxQueueSize`, as `BatchSpanProcessor` does. */
  maxExportBatchSize: number;
  scheduledDelayMillis: number;
}

// --- OTLP/JSON, written by hand ------------------------------------------------------------------
// The same text `JsonTraceSerializer` (@opentelemetry/otlp-transformer) makes of a span, field for
// field (`encoded-span-processor.spec.ts` checks them against each other), without building the
// intermediate objects.

const SPAN_FLAGS_HAS_IS_REMOTE = 0x100;
const SPAN_FLAGS_IS_REMOTE = 0x200;

function flags(traceFlags: number, isRemote: boolean | undefined): number {
  return (traceFlags & 0xff) | SPAN_FLAGS_HAS_IS_REMOTE | (isRemote === true ? SPAN_FLAGS_IS_REMOTE : 0);
}

/** Nanoseconds since the epoch as a decimal string (hrTime is `[seconds, nanoseconds]`). */
function nanos(time: HrTime): string {
  const seconds = Math.trunc(time[0]);
  const fraction = Math.trunc(time[1]);
  if (seconds === 0 || fraction < 0 || fraction >= 1e9 || seconds < 0)
    return (BigInt(seconds) * 1_000_000_000n + BigInt(fraction)).toString();
  return `${seconds}${String(fraction).padStart(9, '0')}`;
}

function anyValue(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return `{"stringValue":${JSON.stringify(value)}}`;
    case 'number':
      return Number.isInteger(value)
        ? `{"intValue":${JSON.stringify(value)}}`
        : `{"doubleValue":${JSON.stringify(value)}}`;
    case 'boolean':
      return `{"boolValue":${String(value)}}`;
    default:
      break;
  }
  if (value instanceof Uint8Array) return `{"bytesValue":"${Buffer.from(value).toString('base64')}"}`;
  if (Array.isArray(value)) return `{"arrayValue":{"values":[${value.map(anyValue).join(',')}]}}`;
  if (typeof value === 'object' && value !== null)
    return `{"kvlistValue":{"values":${attributes(value as Record<string, unknown>)}}}`;
  return '{}';
}

function attributes(values: Record<string, unknown>): string {
  let out = '[';
  let first = true;
  for (const key of Object.keys(values)) {
    out += `${first ? '' : ','}{"key":${JSON.stringify(key)},"value":${anyValue(values[key])}}`;
    first = false;
  }
  return `${out}]`;
}

function event(timed: TimedEvent): string {
  return (
    `{"attributes":${timed.attributes === undefined ? '[]' : attributes(timed.attributes)}` +
    `,"name":${JSON.stringify(timed.name)},"timeUnixNano":"${nanos(timed.time)}"` +
    `,"droppedAttributesCount":${timed.droppedAttributesCount ?? 0}}`
  );
}

function link(linked: Link): string {
  const context: SpanContext = linked.context;
  const traceState = context.traceState?.serialize();
  return (
    `{"attributes":${linked.attributes === undefined ? '[]' : attributes(linked.attributes)}` +
    `,"spanId":${JSON.stringify(context.spanId)},"traceId":${JSON.stringify(context.traceId)}` +
    (traceState === undefined ? '' : `,"traceState":${JSON.stringify(traceState)}`) +
    `,"droppedAttributesCount":${linked.droppedAttributesCount ?? 0}` +
    `,"flags":${flags(context.traceFlags, context.isRemote)}}`
  );
}

/** A span as an OTLP/JSON `Span` object. */
export function encodeSpan(span: ReadableSpan): string {
  const context = span.spanContext();
  const parent = span.parentSpanContext;
  const traceState = context.traceState?.serialize();
  const status = span.status;
  return (
    `{"traceId":${JSON.stringify(context.traceId)},"spanId":${JSON.stringify(context.spanId)}` +
    (parent?.spanId ? `,"parentSpanId":${JSON.stringify(parent.spanId)}` : '') +
    (traceState === undefined ? '' : `,"traceState":${JSON.stringify(traceState)}`) +
    `,"name":${JSON.stringify(span.name)},"kind":${span.kind + 1}` +
    `,"startTimeUnixNano":"${nanos(span.startTime)}","endTimeUnixNano":"${nanos(span.endTime)}"` +
    `,"attributes":${attributes(span.attributes)},"droppedAttributesCount":${span.droppedAttributesCount}` +
    `,"events":[${span.events.map(event).join(',')}],"droppedEventsCount":${span.droppedEventsCount}` +
    `,"status":{"code":${status.code}${status.message === undefined ? '' : `,"message":${JSON.stringify(status.message)}`}}` +
    `,"links":[${span.links.map(link).join(',')}],"droppedLinksCount":${span.droppedLinksCount}` +
    `,"flags":${flags(context.traceFlags, parent?.isRemote)}}`
  );
}

const resourceHeads = new WeakMap<Resource, EncodedHead>();

/** A resource as an OTLP/JSON `Resource` object (once per resource). */
export function encodeResource(resource: Resource): EncodedHead {
  let head = resourceHeads.get(resource);
  if (head === undefined) {
    const schemaUrl = resource.schemaUrl === '' ? undefined : resource.schemaUrl;
    head = {
      json:
        `{"attributes":${attributes(resource.attributes)},"droppedAttributesCount":0` +
        (schemaUrl === undefined ? '' : `,"schemaUrl":${JSON.stringify(schemaUrl)}`) +
        '}',
      schemaUrl,
    };
    resourceHeads.set(resource, head);
  }
  return head;
}

type Scope = ReadableSpan['instrumentationScope'] & {
  attributes?: Record<string, unknown>;
  droppedAttributesCount?: number;
};
const scopeHeads = new WeakMap<Scope, EncodedHead>();

/** An instrumentation scope as an OTLP/JSON `InstrumentationScope` object (once per scope). */
export function encodeScope(scope: Scope): EncodedHead {
  let head = scopeHeads.get(scope);
  if (head === undefined) {
    const scoped = scope.attributes !== undefined && Object.keys(scope.attributes).length > 0;
    head = {
      json:
        `{"name":${JSON.stringify(scope.name)}` +
        (scope.version === undefined ? '' : `,"version":${JSON.stringify(scope.version)}`) +
        (scoped
          ? `,"attributes":${attributes(scope.attributes!)},"droppedAttributesCount":${scope.droppedAttributesCount ?? 0}`
          : '') +
        '}',
      schemaUrl: scope.schemaUrl,
    };
    scopeHeads.set(scope, head);
  }
  return head;
}

function schemaUrlField(schemaUrl: string | undefined): string {
  return schemaUrl === undefined ? '' : `,"schemaUrl":${JSON.stringify(schemaUrl)}`;
}

/**
 * The OTLP/HTTP JSON exporter's transport (endpoint, headers, timeout, compression and retries from
 * the same `OTEL_EXPORTER_OTLP_*` variables, through `@opentelemetry/otlp-exporter-base`), sending
 * spans that are already encoded.
 */
export function otlpHttpEncodedSpanExporter(): EncodedSpanExporter {
  return createOtlpHttpExportDelegate<SpanBatch, unknown>(
    convertLegacyHttpOptions({}, 'TRACES', 'v1/traces', { 'Content-Type': 'application/json' }),
    {
      serializeRequest: (batch) => batch.exportRequest(),
      deserializeResponse: () => ({}),
    },
    'otlp_http_span_exporter',
    { name: 'span', countItems: (batch) => batch.count },
    undefined,
  );
}

/** Exported batches kept for reuse: the one being filled and the one being exported need two. */
const SPARE_BATCHES = 2;
/** A batch grown past this (spans with very large attributes) is not kept. */
const SPARE_BATCH_MAX_BYTES = 4 * 1024 * 1024;

/**
 * `BatchSpanProcessor` for OTLP/JSON, except that a span is encoded the moment it ends and only its
 * text waits for the export. The batch processor held the span objects themselves (~5 small objects
 * each, for up to `OTEL_BSP_SCHEDULE_DELAY` or 512 spans): they outlived the young generation and were
 * copied, promoted and marked; at 10 % sampling that cost ~15 % of single-row throughput and ~3 ms of
 * p99 (docs/performance.md, pass 6). Same settings (`OTEL_BSP_*`), same bounds: beyond
 * `maxQueueSize` waiting spans, new ones are dropped; one export in flight at a time.
 *
 * Exported batches are kept (up to `SPARE_BATCHES`) and filled again. A batch lives until
 * `maxExportBatchSize` spans have ended (~0.1 s under load), long enough for its buffers to reach the old
 * generation; a new one each time (~1 MB outside the heap, grown 64 → 512 KB, per 512 spans) drove a full
 * collection every ~2 s under load, each stalling the event loop (docs/performance.md, pass 9).
 */
export class EncodingSpanProcessor implements SpanProcessor {
  /** Oldest first; only the last may be open (under `maxExportBatchSize` spans). */
  private batches: SpanBatch[] = [];
  /** Exported batches, cleared, to be filled again. */
  private readonly spare: SpanBatch[] = [];
  private queued = 0;
  private timer: NodeJS.Timeout | undefined;
  private exporting: Promise<void> | undefined;
  private stopped = false;
  /** Spans dropped because the queue was full (as `BatchSpanProcessor`, not otherwise reported). */
  dropped = 0;
  private readonly batchSize: number;

  constructor(
    private readonly exporter: EncodedSpanExporter,
    private readonly settings: SpanBatchSettings,
    private readonly onExportFailure: () => void = () => undefined,
  ) {
    this.batchSize = Math.min(settings.maxExportBatchSize, settings.maxQueueSize);
  }

  onStart(): void {}

  onEnd(span: ReadableSpan): void {
    if (this.stopped || (span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return;
    if (this.queued >= this.settings.maxQueueSize) {
      this.dropped += 1;
      return;
    }
    let open = this.batches.at(-1);
    if (open === undefined || open.count >= this.batchSize) {
      open = this.spare.pop() ?? new SpanBatch();
      this.batches.push(open);
    }
    open.add(encodeResource(span.resource), encodeScope(span.instrumentationScope), encodeSpan(span));
    this.queued += 1;
    if (open.count >= this.batchSize) this.drain(false);
    else this.startTimer();
  }

  async forceFlush(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    while (this.queued > 0 || this.exporting !== undefined) {
      this.drain(true);
      await this.exporting;
    }
    await this.exporter.forceFlush();
  }

  async shutdown(): Promise<void> {
    if (this.stopped) return;
    await this.forceFlush();
    this.stopped = true;
    await this.exporter.shutdown();
  }

  private recycle(batch: SpanBatch): void {
    batch.clear();
    if (this.spare.length < SPARE_BATCHES && batch.capacity <= SPARE_BATCH_MAX_BYTES) this.spare.push(batch);
  }

  private startTimer(): void {
    if (this.timer !== undefined || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.drain(true);
    }, this.settings.scheduledDelayMillis);
    this.timer.unref();
  }

  /**
   * Exports batches one after another: full ones, and with `all` every batch queued now, the open one
   * included, but not those that open meanwhile (under load, that would export whatever arrived during
   * each export, a few spans at a time, for as long as the load lasts).
   */
  private drain(all: boolean): void {
    if (this.exporting !== undefined) return;
    let forced = all ? this.batches.length : 0;
    const next = (): Promise<void> | undefined => {
      const batch = this.batches[0];
      if (batch === undefined) return undefined;
      if (forced > 0) forced -= 1;
      else if (batch.count < this.batchSize) return undefined;
      this.batches.shift();
      this.queued -= batch.count;
      return new Promise<void>((resolve) => {
        this.exporter.export(batch, (result) => {
          if (result.code !== ExportResultCode.SUCCESS) this.onExportFailure();
          this.recycle(batch);
          resolve();
        });
      }).then(next);
    };
    const running = next();
    if (running === undefined) return;
    this.exporting = running.finally(() => {
      this.exporting = undefined;
      const first = this.batches[0];
      if (first !== undefined && first.count >= this.batchSize) this.drain(false);
      else if (first !== undefined) this.startTimer();
    });
  }
}
