import { leadingElementsJson } from '../prediction/domain/instances-json';
import type { PredictionBatch } from '../prediction/prediction-events';

/** ECS version our field names follow (`ecs.version` on every line). */
export const ECS_VERSION = '8.11.0';

/**
 * Instances whose inputs and probabilities a multi-instance prediction event carries (the prediction
 * store keeps all of them). Ids, labels and scores are carried for every instance.
 */
export const PREDICTION_EVENT_MAX_INPUTS = 10;

/** Flat ECS field names (`http.request.method`, `trace.id`, ...) to values. */
export type LogFields = Record<string, unknown>;
export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

export const LOG_LEVEL_SEVERITY: Readonly<Record<LogLevel, number>> = {
  error: 0,
  warn: 1,
  info: 2,
  debug: 3,
};

export interface ServiceIdentity {
  name: string;
  version: string;
  environment: string;
}

/** Fields every line carries; a caller's fields never override them. */
const RESERVED = new Set([
  '@timestamp',
  'log.level',
  'message',
  'service.name',
  'service.version',
  'service.environment',
  'ecs.version',
]);

/** Field names whose value is a secret: replaced, never written. */
const SECRET_KEY = /authorization|password|passwd|secret|token|api[-_.]?key|cookie|credential/i;
/** Secrets embedded in free text (an error message quoting a header or a URL). */
const SECRET_TEXT =
  /(bearer|basic)\s+[\w.~+/=-]+|((?:token|password|passwd|secret|api[-_]?key)["']?\s*[=:]\s*["']?)[^\s&"',;]+/gi;
const REDACTED = '[REDACTED]';

/** Removes secrets from free text. */
export function redactText(text: string): string {
  if (!SECRET_TEXT.test(text)) return text;
  SECRET_TEXT.lastIndex = 0;
  return text.replace(SECRET_TEXT, (match: string, scheme: string | undefined, prefix: string | undefined) =>
    scheme !== undefined ? `${scheme} ${REDACTED}` : `${prefix ?? ''}${REDACTED}`,
  );
}

/** Redacts secret-looking keys and secrets inside strings, down to a small depth. */
export function redactValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object' || depth > 4) return value;
  if (value instanceof Error) return redactText(value.message);
  if (Array.isArray(value)) return value.map((item) => redactValue(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] = SECRET_KEY.test(key) ? REDACTED : redactValue(item, depth + 1);
  }
  return out;
}

/** Milliseconds of year 10000: from there `toISOString` writes six-digit years. */
const YEAR_10000_MS = 253_402_300_800_000;
let cachedSecond = Number.NaN;
let secondText = '';

/**
 * `new Date(ms).toISOString()`, with the text up to the second kept from the last call: every request
 * writes two lines, and a `Date` formatted from scratch cost 1.1–1.2 µs on session 6's host, the cached
 * second ~70 ns (`docs/performance.md`, pass 7).
 */
export function isoTimestamp(ms: number): string {
  if (!(ms >= 0 && ms < YEAR_10000_MS)) return new Date(ms).toISOString();
  const whole = Math.floor(ms);
  const second = whole - (whole % 1000);
  if (second !== cachedSecond) {
    secondText = new Date(second).toISOString().slice(0, 20); // 2026-11-23T23:40:12.
    cachedSecond = second;
  }
  const millis = whole - second;
  return `${secondText}${millis < 10 ? '00' : millis < 100 ? '0' : ''}${millis}Z`;
}

const bigintAsString = (_key: string, item: unknown): unknown =>
  typeof item === 'bigint' ? item.toString() : item;

function allFinite(values: ArrayLike<number>): boolean {
  for (let index = 0; index < values.length; index++) if (!Number.isFinite(values[index])) return false;
  return true;
}

function stringify(value: unknown): string | undefined {
  try {
    // No replacer on the common path: a replacer function makes JSON.stringify several times slower.
    return JSON.stringify(value);
  } catch {
    try {
      return JSON.stringify(value, bigintAsString);
    } catch {
      // Circular structures and the like: a log call never throws.
      return JSON.stringify(String(value));
    }
  }
}

/**
 * Serializes ECS JSON lines by hand: one static suffix with the service fields is built once, each line
 * is a string concatenation (no object merges, no generic serializer on the hot path).
 */
export class EcsFormatter {
  /** `,"service.name":…,"ecs.version":…}` */
  private readonly suffix: string;

  constructor(readonly service: ServiceIdentity) {
    this.suffix =
      `,"service.name":${JSON.stringify(service.name)}` +
      `,"service.version":${JSON.stringify(service.version)}` +
      `,"service.environment":${JSON.stringify(service.environment)}` +
      `,"ecs.version":"${ECS_VERSION}"}`;
  }

  /** A general line (the winston path): fields are redacted; `error` values become ECS error fields. */
  line(level: LogLevel, message: string, fields: LogFields, timestamp = Date.now()): string {
    let out = `{"@timestamp":"${isoTimestamp(timestamp)}","log.level":"${level}","message":${JSON.stringify(redactText(message))}`;
    for (const key of Object.keys(fields)) {
      const value = fields[key];
      if (value === undefined || RESERVED.has(key)) continue;
      if (value instanceof Error && key === 'error') {
        out += `,"error.type":${JSON.stringify(value.name)},"error.message":${JSON.stringify(redactText(value.message))}`;
        if (value.stack !== undefined)
          out += `,"error.stack_trace":${JSON.stringify(redactText(value.stack))}`;
        continue;
      }
      const safe = SECRET_KEY.test(key) ? REDACTED : redactValue(value);
      const json = stringify(safe);
      if (json !== undefined) out += `,${JSON.stringify(key)}:${json}`;
    }
    return out + this.suffix;
  }

  /** One access-log line. `path` is the raw URL (the query string is cut off: it may hold secrets). */
  accessLine(
    method: string,
    url: string,
    route: string,
    statusCode: number,
    durationNs: number,
    requestId: string,
    traceId: string | undefined,
    spanId: string | undefined,
  ): string {
    const query = url.indexOf('?');
    const path = JSON.stringify(query === -1 ? url : url.slice(0, query));
    const level = statusCode >= 500 ? 'error' : statusCode >= 400 ? 'warn' : 'info';
    let out =
      `{"@timestamp":"${isoTimestamp(Date.now())}","log.level":"${level}"` +
      `,"message":"${method} ${path.slice(1, -1)} ${statusCode}","log.logger":"vigil.access"` +
      `,"event.kind":"event","event.category":["web"],"event.type":["access"]` +
      `,"event.outcome":"${statusCode >= 400 ? 'failure' : 'success'}"` +
      `,"http.request.method":"${method}","url.path":${path},"http.route":${JSON.stringify(route)}` +
      `,"http.response.status_code":${statusCode},"event.duration":${Math.round(durationNs)}` +
      `,"http.request.id":${JSON.stringify(requestId)}`;
    if (traceId !== undefined) out += `,"trace.id":"${traceId}","span.id":"${spanId ?? ''}"`;
    return out + this.suffix;
  }

  /** The prediction event of a request of one instance. `inputs` must have the privacy policy applied. */
  predictionLine(batch: PredictionBatch, inputs: Record<string, number | string>): string {
    let out =
      `{"@timestamp":"${isoTimestamp(batch.timestamp)}","log.level":"info"` +
      `,"message":"prediction","log.logger":"vigil.prediction","event.kind":"event","event.action":"prediction"` +
      `,"event.duration":${Math.round(batch.latencyMs * 1e6)}` +
      `,"model.name":${JSON.stringify(batch.model)},"model.version":"${batch.version}"` +
      `,"prediction.id":${batch.predictionIdJson(0)},"prediction.label":${JSON.stringify(batch.labels[0])}` +
      `,"prediction.probabilities":${batch.rowProbabilitiesJson(0)}` +
      `,"prediction.inputs":${stringify(inputs) ?? '{}'}` +
      `,"http.request.id":${JSON.stringify(batch.requestId)}`;
    const score = batch.scores?.[0];
    if (score !== undefined && Number.isFinite(score)) out += `,"prediction.score":${batch.scoreText(0)}`;
    const features = batch.outOfRange?.[0];
    if (features !== undefined && features.length > 0)
      out += `,"prediction.out_of_range":${JSON.stringify(features)}`;
    if (batch.traceId !== undefined) out += `,"trace.id":${JSON.stringify(batch.traceId)}`;
    return out + this.suffix;
  }

  /**
   * The prediction event of a request of several instances: the per-instance fields of
   * `predictionLine` become arrays in instance order (`prediction.id`, `prediction.label`,
   * `prediction.score`), `prediction.count` is the number of instances, `prediction.out_of_range` the
   * features flagged in any of them, and `prediction.inputs` and `prediction.probabilities` (one array
   * per instance) hold the first `PREDICTION_EVENT_MAX_INPUTS` instances only: formatting every
   * probability of a 100-row request took 6 % of the service's CPU, and the store keeps all of them.
   * `inputsOf` applies the privacy policy; without it the inputs are logged as received, then cut from
   * the request's own text when the batch kept it (`leadingElementsJson`): `JSON.stringify` of ten
   * credit rows formatted their 110 numbers again (1.5 % of a 100-row credit profile).
   */
  predictionBatchLine(
    batch: PredictionBatch,
    inputsOf?: (inputs: Record<string, number | string>) => Record<string, number | string>,
  ): string {
    const count = batch.rows;
    let ids = '[';
    for (let row = 0; row < count; row++) ids += `${row === 0 ? '' : ','}${batch.predictionIdJson(row)}`;
    ids += ']';
    let outOfRange: Set<string> | undefined;
    for (const features of batch.outOfRange ?? [])
      for (const feature of features ?? []) (outOfRange ??= new Set()).add(feature);
    const shown = Math.min(count, PREDICTION_EVENT_MAX_INPUTS);
    let inputsText =
      inputsOf === undefined && batch.inputsJson !== undefined
        ? leadingElementsJson(batch.inputsJson, shown)
        : undefined;
    if (inputsText === undefined) {
      const inputs = new Array<Record<string, number | string>>(shown);
      for (let row = 0; row < shown; row++)
        inputs[row] = inputsOf?.(batch.inputs[row]!) ?? batch.inputs[row]!;
      inputsText = stringify(inputs) ?? '[]';
    }
    let out =
      `{"@timestamp":"${isoTimestamp(batch.timestamp)}","log.level":"info"` +
      `,"message":"prediction","log.logger":"vigil.prediction","event.kind":"event","event.action":"prediction"` +
      `,"event.duration":${Math.round(batch.latencyMs * 1e6)}` +
      `,"model.name":${JSON.stringify(batch.model)},"model.version":"${batch.version}"` +
      `,"prediction.count":${count},"prediction.id":${ids}` +
      `,"prediction.label":${batch.labelsJson()}` +
      `,"prediction.probabilities":${batch.probabilitiesJson(shown)}` +
      `,"prediction.inputs":${inputsText}` +
      `,"http.request.id":${JSON.stringify(batch.requestId)}`;
    const scores = batch.scores;
    if (scores !== undefined && allFinite(scores)) out += `,"prediction.score":${batch.scoresJson()!}`;
    if (outOfRange !== undefined) out += `,"prediction.out_of_range":${JSON.stringify([...outOfRange])}`;
    if (batch.traceId !== undefined) out += `,"trace.id":${JSON.stringify(batch.traceId)}`;
    return out + this.suffix;
  }
}
