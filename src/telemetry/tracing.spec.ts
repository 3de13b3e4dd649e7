import { ROOT_CONTEXT, SpanKind, trace, TraceFlags } from '@opentelemetry/api';
import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import { type ReadableSpan, SamplingDecision, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { CountingSpanExporter, createSampler, onTraceExportFailure } from './tracing';

const TRACE_LOW = '00000000000000000000000000000001'; // below any ratio's bound: kept by a ratio sampler
const TRACE_HIGH = 'ffffffff000000000000000000000000'; // above it: dropped unless the ratio is 1

function decide(
  name: Parameters<typeof createSampler>[0],
  ratio: number,
  traceId: string,
  parentSampled?: boolean,
) {
  const parent =
    parentSampled === undefined
      ? ROOT_CONTEXT
      : trace.setSpanContext(ROOT_CONTEXT, {
          traceId,
          spanId: '0000000000000001',
          traceFlags: parentSampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
          isRemote: true,
        });
  return createSampler(name, ratio).shouldSample(parent, traceId, 'GET /x', SpanKind.SERVER, {}, []).decision;
}

describe('createSampler', () => {
  const KEEP = SamplingDecision.RECORD_AND_SAMPLED;
  const DROP = SamplingDecision.NOT_RECORD;
  it.each([
    ['always_on', 0, TRACE_HIGH, undefined, KEEP],
    ['always_off', 1, TRACE_LOW, undefined, DROP],
    ['traceidratio', 0.1, TRACE_LOW, undefined, KEEP],
    ['traceidratio', 0.1, TRACE_HIGH, undefined, DROP],
    ['parentbased_traceidratio', 0.1, TRACE_HIGH, true, KEEP],
    ['parentbased_traceidratio', 0.1, TRACE_LOW, false, DROP],
    ['parentbased_traceidratio', 0.1, TRACE_HIGH, undefined, DROP],
    ['parentbased_always_on', 0, TRACE_HIGH, undefined, KEEP],
    ['parentbased_always_off', 1, TRACE_LOW, true, KEEP],
  ] as const)('%s (ratio %d, trace %s, parent sampled %s)', (name, ratio, traceId, parent, expected) => {
    expect(decide(name, ratio, traceId, parent)).toBe(expected);
  });
});

class ScriptedExporter implements SpanExporter {
  constructor(private readonly result: ExportResult | Error) {}
  export(_spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    if (this.result instanceof Error) throw this.result;
    done(this.result);
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

describe('CountingSpanExporter', () => {
  it('counts failed batches and passes every result through', () => {
    let failures = 0;
    const results: ExportResultCode[] = [];
    for (const inner of [
      new ScriptedExporter({ code: ExportResultCode.SUCCESS }),
      new ScriptedExporter({ code: ExportResultCode.FAILED, error: new Error('ECONNREFUSED') }),
      new ScriptedExporter(new Error('thrown')),
    ]) {
      new CountingSpanExporter(inner, () => (failures += 1)).export([], (result) =>
        results.push(result.code),
      );
    }
    expect(results).toEqual([ExportResultCode.SUCCESS, ExportResultCode.FAILED, ExportResultCode.FAILED]);
    expect(failures).toBe(2);
  });

  it('reports failures to the subscriber, including those from before it subscribed', () => {
    const failing = new CountingSpanExporter(new ScriptedExporter({ code: ExportResultCode.FAILED }));
    failing.export([], () => undefined);
    failing.export([], () => undefined);
    const counts: number[] = [];
    const unsubscribe = onTraceExportFailure((count) => counts.push(count));
    failing.export([], () => undefined);
    unsubscribe();
    expect(counts).toEqual([2, 1]);
  });
});
