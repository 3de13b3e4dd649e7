import { Transform } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  IsUrl,
  Max,
  Min,
  MinLength,
} from 'class-validator';

const toBoolean = ({ value }: { value: unknown }): unknown => {
  if (typeof value !== 'string') return value;
  const lowered = value.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(lowered)) return true;
  if (['0', 'false', 'no', 'off', ''].includes(lowered)) return false;
  return value;
};
const toNumber = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value)) ? Number(value) : value;
const toList = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string'
    ? value
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item !== '')
    : value;

/**
 * Every environment variable Vigil reads, with its default. Validated once at boot; every bad variable
 * is reported together. `.env.example` documents the same list.
 */
export class EnvSchema {
  // --- HTTP -----------------------------------------------------------------------------------------
  @Transform(toNumber) @IsInt() @Min(0) @Max(65535) PORT = 8080;
  @IsString() HOST = '0.0.0.0';
  @Transform(toNumber) @IsInt() @Min(1024) BODY_LIMIT_BYTES = 1_048_576;
  @Transform(toNumber) @IsInt() @Min(1) MAX_INSTANCES_PER_REQUEST = 1000;
  @Transform(toNumber) @IsInt() @Min(0) SHUTDOWN_TIMEOUT_MS = 10_000;
  /** A request (headers and body) must arrive within this time, else 408 (slow-client protection). */
  @Transform(toNumber) @IsInt() @Min(1000) REQUEST_TIMEOUT_MS = 60_000;
  /** Per-IP limit on admin (mutating registry/runs/retrain) requests per minute; 0 disables it. */
  @Transform(toNumber) @IsInt() @Min(0) RATE_LIMIT_ADMIN_PER_MINUTE = 60;
  /** Per-IP limit on POST /v1/feedback requests per minute; 0 disables it. Predict is never limited. */
  @Transform(toNumber) @IsInt() @Min(0) RATE_LIMIT_FEEDBACK_PER_MINUTE = 600;
  @IsIn(['development', 'test', 'staging', 'production']) VIGIL_ENV = 'development';

  // --- Storage --------------------------------------------------------------------------------------
  /** Registry, artifacts and prediction store live here (SQLite file unless DATABASE_URL is set). */
  @IsString() DATA_DIR = './data';
  /** postgres://user@host:5432/db: use PostgreSQL instead of SQLite (several replicas share it). */
  @IsOptional() @IsString() DATABASE_URL?: string;
  /** Committed demo models imported as version 1 in Production on an empty registry. */
  @IsString() MODELS_DIR = './models';
  @Transform(toBoolean) @IsBoolean() BOOTSTRAP_MODELS = true;

  // --- Registry -------------------------------------------------------------------------------------
  /** Bearer token for mutating (admin) endpoints; unset means every admin call is refused. */
  @IsOptional() @IsString() @MinLength(16) ADMIN_TOKEN?: string;
  @Transform(toNumber) @IsInt() @Min(1024) MAX_UPLOAD_BYTES = 50 * 1_048_576;
  /** A candidate may be this much worse than Production on the primary metric and still be promoted. */
  @Transform(toNumber) @IsNumber() @Min(0) PROMOTION_TOLERANCE = 0.01;

  // --- Serving --------------------------------------------------------------------------------------
  @IsString() DEFAULT_MODEL = 'iris';
  @Transform(toNumber) @IsInt() @Min(100) REGISTRY_POLL_INTERVAL_MS = 2000;
  @Transform(toNumber) @IsInt() @Min(1) MAX_LOADED_VERSIONS = 4;
  @Transform(toBoolean) @IsBoolean() BATCHING_ENABLED = true;
  /**
   * Rows per ONNX Runtime call. Large enough that requests of many rows are merged too (at 32, each
   * 100-row iris request ran alone: 537–546 µs of CPU a request against 416–430 at 1024, in pairs,
   * docs/performance.md pass 11); `MAX_INSTANCES_PER_REQUEST` (1,000) fits in one batch.
   */
  @Transform(toNumber) @IsInt() @Min(1) BATCH_MAX_SIZE = 1024;
  /** 0 = flush on the next event-loop turn (no timer): no latency penalty at low concurrency. */
  @Transform(toNumber) @IsNumber() @Min(0) BATCH_MAX_DELAY_MS = 0;
  /** Rows waiting per model version before new requests get 503 OVERLOADED. */
  @Transform(toNumber) @IsInt() @Min(1) QUEUE_MAX_ROWS = 4096;
  /** `node dist/cluster.js` only: worker processes sharing PORT (0 = one per CPU core). */
  @Transform(toNumber) @IsInt() @Min(0) WORKERS = 0;
  /** Old-generation growth past the last full GC's survivors, in % (0 = V8's own, up to 300 %). */
  @Transform(toNumber) @IsInt() @Min(0) @Max(1000) HEAP_GROWTH_PERCENT = 40;
  /**
   * Nice value added to every thread but the event loop's (GC helpers, store writer; 0 = leave them):
   * a lower p99 on a saturated core for more RSS (docs/performance.md, pass 8), so off by default.
   */
  @Transform(toNumber) @IsInt() @Min(0) @Max(19) HELPER_THREAD_NICE = 0;

  // --- Telemetry ------------------------------------------------------------------------------------
  @IsIn(['error', 'warn', 'info', 'debug']) LOG_LEVEL = 'info';
  /** Where JSON log lines go; the CLI defaults to stderr so that its own output stays parseable. */
  @IsIn(['stdout', 'stderr']) LOG_STREAM = 'stdout';
  @Transform(toBoolean) @IsBoolean() ACCESS_LOG = true;
  @Transform(toBoolean) @IsBoolean() PREDICTION_LOG = true;
  @IsOptional() @IsUrl({ require_tld: false, protocols: ['http', 'https'] }) ELASTICSEARCH_URL?: string;
  @Transform(toNumber) @IsInt() @Min(1) LOG_BUFFER_MAX = 10_000;
  /** And at most this many bytes of them (a 100-row request's event: 7.4 KB iris, 9.9 KB credit). */
  @Transform(toNumber) @IsInt() @Min(65_536) LOG_BUFFER_MAX_BYTES = 16_777_216;
  @Transform(toNumber) @IsInt() @Min(1) LOG_BULK_SIZE = 500;
  @Transform(toNumber) @IsInt() @Min(10) LOG_FLUSH_INTERVAL_MS = 1000;
  /** Input features removed from logs and the prediction store (GDPR). */
  @Transform(toList) @IsString({ each: true }) PRIVACY_DROP_FIELDS: string[] = [];
  /** Input features replaced by a salted SHA-256 in logs and the prediction store. */
  @Transform(toList) @IsString({ each: true }) PRIVACY_HASH_FIELDS: string[] = [];
  @IsOptional() @IsString() PRIVACY_HASH_SALT?: string;
  @Transform(toBoolean) @IsBoolean() METRICS_ENABLED = true;
  /** OpenTelemetry variables Vigil reads itself; the SDK reads the other OTEL_* variables directly. */
  @Transform(toBoolean) @IsBoolean() OTEL_SDK_DISABLED = false;
  /** service.name in traces and logs. */
  @IsString() @MinLength(1) OTEL_SERVICE_NAME = 'vigil';
  /** Default: keep 10 % of new traces, follow the caller's decision when a traceparent arrives. */
  @IsIn([
    'always_on',
    'always_off',
    'traceidratio',
    'parentbased_always_on',
    'parentbased_always_off',
    'parentbased_traceidratio',
  ])
  OTEL_TRACES_SAMPLER = 'parentbased_traceidratio';
  @Transform(toNumber) @IsNumber() @Min(0) @Max(1) OTEL_TRACES_SAMPLER_ARG = 0.1;
  /** otlp (OTLP/HTTP to OTEL_EXPORTER_OTLP_ENDPOINT), console, or none (trace ids in logs, no export). */
  @IsIn(['otlp', 'console', 'none']) OTEL_TRACES_EXPORTER = 'otlp';
  /** The span processor's batching, as OpenTelemetry names them: spans held at most, per export, ms. */
  @Transform(toNumber) @IsInt() @Min(1) OTEL_BSP_MAX_QUEUE_SIZE = 2048;
  @Transform(toNumber) @IsInt() @Min(1) OTEL_BSP_MAX_EXPORT_BATCH_SIZE = 512;
  @Transform(toNumber) @IsInt() @Min(1) OTEL_BSP_SCHEDULE_DELAY = 5000;

  // --- Monitoring -----------------------------------------------------------------------------------
  @Transform(toBoolean) @IsBoolean() PREDICTION_STORE_ENABLED = true;
  @Transform(toNumber) @IsInt() @Min(1) PREDICTION_STORE_QUEUE_MAX = 50_000;
  @Transform(toNumber) @IsInt() @Min(1) PREDICTION_RETENTION_DAYS = 30;
  @Transform(toNumber) @IsInt() @Min(1000) PREDICTION_RETENTION_ROWS = 1_000_000;
  @Transform(toNumber) @IsInt() @Min(10) MONITOR_WINDOW_SIZE = 5000;
  /** 0 = the window is the last MONITOR_WINDOW_SIZE predictions, whatever their age. */
  @Transform(toNumber) @IsInt() @Min(0) MONITOR_WINDOW_MINUTES = 0;
  /** 0 disables the scheduled evaluation. */
  @Transform(toNumber) @IsInt() @Min(0) EVALUATION_INTERVAL_MS = 60_000;
  @Transform(toNumber) @IsNumber() @Min(0) @Max(1) DRIFT_SHARE_THRESHOLD = 0.5;
  /** 0 disables the trigger. */
  @Transform(toNumber) @IsInt() @Min(0) RETRAIN_EVERY_FEEDBACK = 0;
  @Transform(toBoolean) @IsBoolean() RETRAIN_ON_DRIFT = false;
  /** Retrain when the live primary metric falls below this (0 disables). */
  @Transform(toNumber) @IsNumber() @Min(0) @Max(1) RETRAIN_QUALITY_THRESHOLD = 0;

  // --- Links shown by the web app ------------------------------------------------------------------
  @IsString() GRAFANA_URL = 'http://localhost:3000';
  @IsString() KIBANA_URL = 'http://localhost:5601';
  @IsString() JAEGER_URL = 'http://localhost:16686';
}
