import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { LineQueue, type TakenLines } from './line-queue';
import type { Metrics } from './metrics';

export interface BulkResponse {
  status: number;
  /** The parsed JSON body, when there was one. */
  body: unknown;
}
/** Sends one NDJSON `_bulk` body (UTF-8); rejects on network errors and timeouts (via `signal`). */
export type BulkSender = (path: string, ndjson: Buffer, signal: AbortSignal) => Promise<BulkResponse>;

export type DropReason = 'buffer_full' | 'rejected' | 'retries_exhausted' | 'circuit_open';
export type CircuitState = 'closed' | 'open' | 'half_open';

export interface ElasticsearchLogShipperOptions {
  /** Base URL of Elasticsearch, e.g. http://elastic:secret@localhost:9200 */
  url: string;
  /** Data stream to append to, e.g. logs-vigil-production. */
  dataStream: string;
  /** Events held while Elasticsearch is slow or down; when full the oldest are dropped. */
  bufferMax: number;
  /** Bytes of events held at most, likewise. Default: no bound. */
  bufferMaxBytes?: number;
  /** Events per `_bulk` request. */
  bulkSize: number;
  /** Bytes of events per `_bulk` request at most (default 5 MB, Elastic's advice). */
  bulkMaxBytes?: number;
  flushIntervalMs: number;
  requestTimeoutMs?: number;
  /** Retries of one batch after its first attempt (429, 5xx, network errors, timeouts). */
  maxRetries?: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** Consecutive failed requests that open the circuit. */
  breakerThreshold?: number;
  /** Time the circuit stays open before one probe request (half-open). */
  breakerCooldownMs?: number;
  sender?: BulkSender;
}

/** Elastic's advice for `_bulk` bodies: a few MB (5–15). */
const DEFAULT_BULK_MAX_BYTES = 5 * 1024 * 1024;
const CREATE_ACTION = Buffer.from('{"create":{}}\n');
const RETRYABLE_STATUS = new Set([429, 500, 502, 503, 504]);
/** Keeps the bulk answer small: only what we count. */
const FILTER_PATH = 'filter_path=errors,items.*.status,items.*.error.type,items.*.error.reason';

/**
 * A `BulkSender` on `node:http`/`node:https` with one kept-alive connection. Credentials in the URL
 * become a Basic authorization header. Not `fetch`: undici's fetch copies the body into a web stream
 * and keeps per-request state that cost ~45 MB of RSS under load (docs/performance.md).
 */
export function httpBulkSender(baseUrl: string): BulkSender {
  const base = new URL(baseUrl);
  const headers: Record<string, string | number> = {
    'content-type': 'application/x-ndjson',
    accept: 'application/json',
  };
  if (base.username !== '' || base.password !== '') {
    const user = decodeURIComponent(base.username);
    const password = decodeURIComponent(base.password);
    headers.authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  }
  const secure = base.protocol === 'https:';
  const request = secure ? httpsRequest : httpRequest;
  // One request in flight at a time (the shipper's rule): one socket is enough.
  const agent = secure
    ? new HttpsAgent({ keepAlive: true, maxSockets: 1 })
    : new HttpAgent({ keepAlive: true, maxSockets: 1 });
  // Without the credentials (sent as the header above); a path (Elasticsearch behind a proxy) is kept.
  const prefix = `${base.origin}${base.pathname.replace(/\/+$/, '')}`;
  return (path, ndjson, signal) =>
    new Promise<BulkResponse>((resolve, reject) => {
      const outgoing = request(
        `${prefix}${path}`,
        { method: 'POST', headers: { ...headers, 'content-length': ndjson.length }, agent, signal },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          // Also a connection cut or timed out mid-body (Node reports it as ECONNRESET "aborted").
          response.on('error', reject);
          response.on('end', () => {
            resolve({ status: response.statusCode ?? 0, body: parseBulkBody(Buffer.concat(chunks)) });
          });
        },
      );
      outgoing.on('error', reject);
      outgoing.end(ndjson);
    });
}

/** The top of a `_bulk` answer in which every item succeeded (`took` is there unless `filter_path` left it out). */
const NO_ERRORS = /^\{(?:"took":\d+,)?"errors":false[,}]/;

/**
 * A `_bulk` answer's JSON. When its top level says `"errors":false` (Elasticsearch: no item failed),
 * only that is returned: its items, one per event shipped (~40 bytes each), are not parsed. That
 * parse was 1.3 % of the event loop's time under load. Any other answer is parsed in full.
 */
export function parseBulkBody(bytes: Buffer): unknown {
  if (bytes.length === 0) return undefined;
  if (NO_ERRORS.test(bytes.toString('latin1', 0, 40))) return { errors: false };
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
}

interface BulkItemResult {
  status?: number;
}

function itemStatuses(body: unknown): number[] | undefined {
  if (typeof body !== 'object' || body === null || !('items' in body) || !Array.isArray(body.items))
    return undefined;
  return (body.items as Record<string, BulkItemResult | undefined>[]).map((item) => {
    const result = item.create ?? Object.values(item)[0];
    return typeof result?.status === 'number' ? result.status : 0;
  });
}

/**
 * Ships ECS log lines to an Elasticsearch data stream with `_bulk` `create` actions.
 *
 * Never blocks nor throws into the caller: `enqueue` is O(1) into a bounded ring (full ⇒ oldest dropped);
 * one request at a time is in flight, with a timeout; 429/5xx/network failures are retried with
 * exponential backoff and jitter; after `breakerThreshold` consecutive failures the circuit opens (no
 * requests) and after `breakerCooldownMs` one probe request decides whether it closes again. Memory is
 * bounded by `bufferMax` lines plus one batch in flight. Every loss is counted by reason.
 */
export class ElasticsearchLogShipper {
  private readonly queue: LineQueue;
  private readonly sender: BulkSender;
  private readonly path: string;
  private readonly requestTimeoutMs: number;
  private readonly bulkMaxBytes: number;
  private readonly maxRetries: number;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  private readonly breakerThreshold: number;
  private readonly breakerCooldownMs: number;

  /**
   * The batch being sent: its `_bulk` body (sent again on a retry) and the length of each line in it
   * (a line refused with a 429 is put back).
   */
  private batch: TakenLines | undefined;
  private attempts = 0;
  private consecutiveFailures = 0;
  private circuit: CircuitState = 'closed';
  private openUntil = 0;
  private inFlight: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly interval: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly options: ElasticsearchLogShipperOptions,
    private readonly metrics?: Metrics,
  ) {
    this.queue = new LineQueue(options.bufferMax, options.bufferMaxBytes);
    this.bulkMaxBytes = options.bulkMaxBytes ?? DEFAULT_BULK_MAX_BYTES;
    this.sender = options.sender ?? httpBulkSender(options.url);
    this.path = `/${encodeURIComponent(options.dataStream)}/_bulk?${FILTER_PATH}`;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    this.maxRetries = options.maxRetries ?? 3;
    this.retryBaseMs = options.retryBaseMs ?? 200;
    this.retryMaxMs = options.retryMaxMs ?? 10_000;
    this.breakerThreshold = options.breakerThreshold ?? 5;
    this.breakerCooldownMs = options.breakerCooldownMs ?? 30_000;
    this.interval = setInterval(() => this.tick(), options.flushIntervalMs);
    this.interval.unref();
    this.metrics?.logShippingCircuitOpen.set(0);
  }

  /** Events waiting (buffer plus the batch being sent). */
  get pending(): number {
    return this.queue.size + (this.batch?.lengths.length ?? 0);
  }

  get circuitState(): CircuitState {
    return this.circuit;
  }

  /** Takes a copy of one encoded line (`LineEncoder`: UTF-8, newline included). */
  enqueue(line: Uint8Array): void {
    if (this.closed) return;
    const dropped = this.queue.push(line);
    if (dropped > 0) this.drop('buffer_full', dropped);
    if (this.queue.size >= this.options.bulkSize || this.queue.bytesHeld >= this.bulkMaxBytes) this.kick();
  }

  /**
   * Sends what is queued, within `timeoutMs` (shutdown). Resolves; never rejects. Stops the timers: the
   * shipper accepts nothing afterwards.
   */
  async close(timeoutMs = 2000): Promise<void> {
    this.closed = true;
    clearInterval(this.interval);
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && this.circuit !== 'open') {
      if (this.inFlight !== undefined) {
        await this.inFlight;
        continue;
      }
      if (this.pending === 0 || this.attempts > 0) break;
      this.kick();
    }
    this.metrics?.logQueueSize.set(this.pending);
  }

  private tick(): void {
    if (this.circuit === 'open' && Date.now() >= this.openUntil) this.circuit = 'half_open';
    this.kick();
  }

  private kick(): void {
    if (this.inFlight !== undefined || this.retryTimer !== undefined || this.circuit === 'open') return;
    if (this.batch === undefined && this.queue.size === 0) {
      this.metrics?.logQueueSize.set(0);
      return;
    }
    this.inFlight = this.sendBatch()
      .catch(() => undefined)
      .finally(() => {
        this.inFlight = undefined;
        if (
          !this.closed &&
          this.circuit === 'closed' &&
          (this.queue.size >= this.options.bulkSize || this.queue.bytesHeld >= this.bulkMaxBytes)
        )
          this.kick();
      });
  }

  private async sendBatch(): Promise<void> {
    if (this.batch === undefined) {
      this.batch = this.queue.take(this.options.bulkSize, this.bulkMaxBytes, CREATE_ACTION);
    }
    const batch = this.batch;
    this.metrics?.logQueueSize.set(this.pending);
    let response: BulkResponse;
    try {
      response = await this.sender(this.path, batch.body, AbortSignal.timeout(this.requestTimeoutMs));
    } catch {
      this.onFailure(true);
      return;
    }
    if (response.status >= 200 && response.status < 300) {
      this.onSuccess(batch, response.body);
    } else {
      this.onFailure(RETRYABLE_STATUS.has(response.status));
    }
  }

  private onSuccess(batch: TakenLines, body: unknown): void {
    this.batch = undefined;
    this.attempts = 0;
    this.consecutiveFailures = 0;
    if (this.circuit !== 'closed') {
      this.circuit = 'closed';
      this.metrics?.logShippingCircuitOpen.set(0);
    }
    const count = batch.lengths.length;
    const statuses = itemStatuses(body);
    if (statuses === undefined || statuses.length !== count) {
      // No item failed, or a 2xx without per-item results (a proxy, an old version): all shipped.
      this.metrics?.logEventsShipped.inc(count);
      this.metrics?.logQueueSize.set(this.pending);
      return;
    }
    let shipped = 0;
    const retry: Uint8Array[] = [];
    let rejected = 0;
    // Each line sits after its action in the body.
    let at = 0;
    for (let index = 0; index < statuses.length; index += 1) {
      const status = statuses[index] ?? 0;
      const length = batch.lengths[index]!;
      at += CREATE_ACTION.length;
      if (status >= 200 && status < 300) shipped += 1;
      else if (status === 429) retry.push(batch.body.subarray(at, at + length));
      else rejected += 1;
      at += length;
    }
    if (shipped > 0) this.metrics?.logEventsShipped.inc(shipped);
    if (rejected > 0) this.drop('rejected', rejected);
    if (retry.length > 0) {
      // Items refused for back-pressure go back to the front; what does not fit is the oldest: dropped.
      const lost = this.queue.unshift(retry);
      if (lost > 0) this.drop('buffer_full', lost);
    }
    this.metrics?.logQueueSize.set(this.pending);
  }

  private onFailure(retryable: boolean): void {
    this.consecutiveFailures += 1;
    this.attempts += 1;
    const batchSize = this.batch?.lengths.length ?? 0;
    if (this.circuit === 'half_open' || this.consecutiveFailures >= this.breakerThreshold) {
      this.openCircuit();
      return;
    }
    if (!retryable || this.attempts > this.maxRetries) {
      this.drop(retryable ? 'retries_exhausted' : 'rejected', batchSize);
      this.batch = undefined;
      this.attempts = 0;
      this.metrics?.logQueueSize.set(this.pending);
      return;
    }
    const backoff = Math.min(this.retryMaxMs, this.retryBaseMs * 2 ** (this.attempts - 1));
    const delay = backoff / 2 + Math.random() * (backoff / 2);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.closed) this.kick();
    }, delay);
    this.retryTimer.unref();
  }

  private openCircuit(): void {
    this.circuit = 'open';
    this.openUntil = Date.now() + this.breakerCooldownMs;
    this.metrics?.logShippingCircuitOpen.set(1);
    // The batch in hand has failed repeatedly: give it up; the buffer keeps the newest events.
    if (this.batch !== undefined) this.drop('circuit_open', this.batch.lengths.length);
    this.batch = undefined;
    this.attempts = 0;
    this.metrics?.logQueueSize.set(this.pending);
  }

  private drop(reason: DropReason, count: number): void {
    if (count > 0) this.metrics?.logEventsDropped.labels('elasticsearch', reason).inc(count);
  }
}
