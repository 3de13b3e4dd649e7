import {
  type BulkResponse,
  type BulkSender,
  ElasticsearchLogShipper,
  type ElasticsearchLogShipperOptions,
  parseBulkBody,
} from './elasticsearch-log.shipper';
import { LineEncoder } from './encode-lines';
import { Metrics } from './metrics';

/** A log line as the pipeline hands it over (UTF-8, newline included). */
const encoder = new LineEncoder();
const encoded = (line: string): Uint8Array => encoder.encode(line);

interface SentRequest {
  path: string;
  lines: string[];
  /** The body as sent. */
  text: string;
}

/** A scripted `_bulk` endpoint: answers with the next response (or throws it), records what it got. */
function scriptedSender(script: (BulkResponse | Error | ((lines: string[]) => BulkResponse))[]) {
  const sent: SentRequest[] = [];
  const sender = async (path: string, ndjson: Buffer): Promise<BulkResponse> => {
    const text = ndjson.toString('utf8');
    const lines = text.split('\n').filter((line) => line !== '');
    sent.push({ path, lines, text });
    const next = script.length > 1 ? script.shift() : script[0];
    if (next instanceof Error) throw next;
    if (typeof next === 'function') return next(lines);
    return next ?? { status: 200, body: { errors: false } };
  };
  return { sent, sender };
}

const allCreated = (lines: string[]): BulkResponse => ({
  status: 200,
  body: {
    errors: false,
    items: lines.filter((_, index) => index % 2 === 1).map(() => ({ create: { status: 201 } })),
  },
});

async function value(metrics: Metrics, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = (await metrics.registry.getMetricsAsJSON()).find((candidate) => candidate.name === name);
  const sample = metric?.values.find((candidate) =>
    Object.entries(labels).every(([key, expected]) => candidate.labels[key] === expected),
  );
  return sample?.value ?? 0;
}

describe('ElasticsearchLogShipper', () => {
  let metrics: Metrics;
  let shipper: ElasticsearchLogShipper | undefined;

  beforeEach(() => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'queueMicrotask', 'nextTick'] });
    metrics = new Metrics();
  });
  afterEach(async () => {
    await shipper?.close(0);
    shipper = undefined;
    jest.useRealTimers();
  });

  const make = (sender: BulkSender, extra: Partial<ElasticsearchLogShipperOptions> = {}) =>
    new ElasticsearchLogShipper(
      {
        url: 'http://es:9200',
        dataStream: 'logs-vigil-test',
        bufferMax: 10,
        bulkSize: 4,
        flushIntervalMs: 100,
        retryBaseMs: 10,
        retryMaxMs: 40,
        maxRetries: 2,
        breakerThreshold: 5,
        breakerCooldownMs: 1000,
        sender,
        ...extra,
      },
      metrics,
    );

  const line = (index: number) => `{"n":${index},"pad":"${'x'.repeat(983)}"}`; // 1,000 bytes with its newline

  it('drops the oldest events beyond the byte bound, and counts them', async () => {
    const { sent, sender } = scriptedSender([allCreated]);
    shipper = make(sender, { bulkSize: 100, bufferMax: 100, bufferMaxBytes: 5000 });
    for (let index = 0; index < 7; index += 1) shipper.enqueue(encoded(line(index)));
    expect(await value(metrics, 'vigil_log_events_dropped_total', { reason: 'buffer_full' })).toBe(2);
    await jest.advanceTimersByTimeAsync(100);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.lines.filter((_, index) => index % 2 === 1)).toEqual([2, 3, 4, 5, 6].map(line));
  });

  it('cuts batches by size as well as by count', async () => {
    const { sent, sender } = scriptedSender([allCreated]);
    shipper = make(sender, { bulkSize: 100, bufferMax: 100, bulkMaxBytes: 2500 });
    for (let index = 0; index < 5; index += 1) shipper.enqueue(encoded(line(index)));
    await jest.advanceTimersByTimeAsync(0);
    await jest.advanceTimersByTimeAsync(100);
    expect(sent.map((request) => request.lines.length / 2)).toEqual([2, 2, 1]);
    expect(await value(metrics, 'vigil_log_events_shipped_total')).toBe(5);
  });

  it('sends create actions to the data stream in batches and counts what was shipped', async () => {
    const { sent, sender } = scriptedSender([allCreated]);
    shipper = make(sender);
    for (let index = 0; index < 6; index += 1) shipper.enqueue(encoded(`{"n":${index}}`));
    await jest.advanceTimersByTimeAsync(0);
    expect(sent).toHaveLength(1); // a full batch goes at once
    expect(sent[0]?.path).toMatch(/^\/logs-vigil-test\/_bulk\?/);
    expect(sent[0]?.lines).toEqual([
      '{"create":{}}',
      '{"n":0}',
      '{"create":{}}',
      '{"n":1}',
      '{"create":{}}',
      '{"n":2}',
      '{"create":{}}',
      '{"n":3}',
    ]);
    await jest.advanceTimersByTimeAsync(100); // the rest on the next tick
    expect(sent).toHaveLength(2);
    expect(sent[1]?.lines).toHaveLength(4);
    expect(await value(metrics, 'vigil_log_events_shipped_total')).toBe(6);
    expect(await value(metrics, 'vigil_log_queue_events')).toBe(0);
  });

  it('keeps memory bounded: a full buffer drops the oldest and counts them', async () => {
    const { sender } = scriptedSender([new Error('ECONNREFUSED')]);
    shipper = make(sender, { bulkSize: 100 });
    for (let index = 0; index < 25; index += 1) shipper.enqueue(encoded(`{"n":${index}}`));
    expect(shipper.pending).toBe(10);
    expect(
      await value(metrics, 'vigil_log_events_dropped_total', {
        sink: 'elasticsearch',
        reason: 'buffer_full',
      }),
    ).toBe(15);
  });

  it('retries 429 and 5xx with backoff, then ships', async () => {
    const { sent, sender } = scriptedSender([
      { status: 503, body: undefined },
      { status: 429, body: undefined },
      allCreated,
    ]);
    shipper = make(sender);
    for (let index = 0; index < 4; index += 1) shipper.enqueue(encoded('{}'));
    await jest.advanceTimersByTimeAsync(0);
    expect(sent).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(100);
    expect(sent).toHaveLength(3);
    expect(sent[2]?.lines).toEqual(sent[0]?.lines);
    expect(await value(metrics, 'vigil_log_events_shipped_total')).toBe(4);
    expect(await value(metrics, 'vigil_log_events_dropped_total')).toBe(0);
  });

  it('drops a batch after its retries (retries_exhausted) and a refused one at once (rejected)', async () => {
    const { sent, sender } = scriptedSender([
      { status: 500, body: undefined },
      { status: 500, body: undefined },
      { status: 500, body: undefined },
      { status: 400, body: { error: 'bad' } },
      allCreated,
    ]);
    shipper = make(sender);
    for (let index = 0; index < 8; index += 1) shipper.enqueue(encoded('{}'));
    await jest.advanceTimersByTimeAsync(500);
    expect(sent.length).toBeGreaterThanOrEqual(4);
    expect(await value(metrics, 'vigil_log_events_dropped_total', { reason: 'retries_exhausted' })).toBe(4);
    expect(await value(metrics, 'vigil_log_events_dropped_total', { reason: 'rejected' })).toBe(4);
  });

  it('counts per-item results: created, rejected, and 429 items sent again', async () => {
    const { sent, sender } = scriptedSender([
      {
        status: 200,
        body: {
          errors: true,
          items: [
            { create: { status: 201 } },
            { create: { status: 400 } },
            { create: { status: 429 } },
            { create: { status: 201 } },
          ],
        },
      },
      allCreated,
    ]);
    shipper = make(sender);
    // Multi-byte lines: the 429 item is cut back out of the bytes sent.
    for (const name of ['a', 'déjà', '🚀 c', 'd']) shipper.enqueue(encoded(`"${name}"`));
    await jest.advanceTimersByTimeAsync(100);
    expect(sent[1]?.text).toBe('{"create":{}}\n"🚀 c"\n');
    expect(await value(metrics, 'vigil_log_events_shipped_total')).toBe(3);
    expect(await value(metrics, 'vigil_log_events_dropped_total', { reason: 'rejected' })).toBe(1);
  });

  it('opens the circuit after consecutive failures, probes after the cooldown, closes on success', async () => {
    let down = true;
    const { sent, sender } = scriptedSender([
      (lines) => (down ? { status: 503, body: undefined } : allCreated(lines)),
    ]);
    shipper = make(sender, { maxRetries: 10, breakerThreshold: 3 });
    for (let index = 0; index < 4; index += 1) shipper.enqueue(encoded('{}'));
    await jest.advanceTimersByTimeAsync(200);
    expect(shipper.circuitState).toBe('open');
    expect(sent).toHaveLength(3);
    expect(await value(metrics, 'vigil_log_shipping_circuit_open')).toBe(1);
    expect(await value(metrics, 'vigil_log_events_dropped_total', { reason: 'circuit_open' })).toBe(4);
    for (let index = 0; index < 4; index += 1) shipper.enqueue(encoded('{}'));
    await jest.advanceTimersByTimeAsync(500);
    expect(sent).toHaveLength(3); // nothing while open
    await jest.advanceTimersByTimeAsync(600); // cooldown over: one probe, still failing
    expect(sent).toHaveLength(4);
    expect(shipper.circuitState).toBe('open');
    down = false;
    shipper.enqueue(encoded('{}'));
    await jest.advanceTimersByTimeAsync(1100);
    expect(shipper.circuitState).toBe('closed');
    expect(await value(metrics, 'vigil_log_shipping_circuit_open')).toBe(0);
    expect(await value(metrics, 'vigil_log_events_shipped_total')).toBeGreaterThan(0);
  });

  it('flushes what is queued on close', async () => {
    const { sent, sender } = scriptedSender([allCreated]);
    shipper = make(sender);
    shipper.enqueue(encoded('{}'));
    await shipper.close(1000);
    expect(sent).toHaveLength(1);
    expect(await value(metrics, 'vigil_log_events_shipped_total')).toBe(1);
    shipper.enqueue(encoded('{}'));
    expect(shipper.pending).toBe(0);
  });
});

describe('parseBulkBody', () => {
  const parse = (text: string): unknown => parseBulkBody(Buffer.from(text, 'utf8'));
  const items = '[{"create":{"status":201}},{"create":{"status":201}}]';

  it('reads only the top of an answer in which no item failed, with or without `took`', () => {
    expect(parse(`{"took":12,"errors":false,"items":${items}}`)).toEqual({ errors: false });
    expect(parse(`{"errors":false,"items":${items}}`)).toEqual({ errors: false });
    // Items that would not parse are never read.
    expect(parse('{"errors":false,"items":[{"create":')).toEqual({ errors: false });
  });

  it('parses in full an answer with failed items, or one laid out otherwise', () => {
    const failed = '{"took":3,"errors":true,"items":[{"create":{"status":429}}]}';
    expect(parse(failed)).toEqual(JSON.parse(failed));
    const pretty = `{\n  "took" : 3,\n  "errors" : false,\n  "items" : ${items}\n}`;
    expect(parse(pretty)).toEqual(JSON.parse(pretty));
    expect(parse('{"errors":falsey}')).toBeUndefined();
    expect(parse('')).toBeUndefined();
    expect(parse('<html>bad gateway</html>')).toBeUndefined();
  });
});
