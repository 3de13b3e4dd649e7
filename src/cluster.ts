/**
 * One Vigil worker per core: `node dist/cluster.js` (WORKERS=0 means one per CPU core).
 *
 * ONNX Runtime runs inference synchronously on the event loop, so one process uses one core. The
 * primary forks WORKERS processes that share PORT (Node's round-robin accept) and serves nothing
 * itself. `/metrics` stays correct on the shared port: the worker that receives the scrape asks the
 * primary, which collects every worker's registry over IPC and answers with prom-client's
 * aggregation (counters and histograms summed; shared-state gauges by max, see STATE_GAUGES).
 *
 * Worker 0 is the leader: it bootstraps the registry from MODELS_DIR and runs the scheduled
 * monitoring evaluation and retrain triggers; the others start after it listens, with those off, so
 * that nothing runs N times against the shared store.
 */
import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import {
  AggregatorRegistry,
  type MetricObjectWithValues,
  type MetricValue,
  type Registry,
} from 'prom-client';
import type { FastifyInstance } from 'fastify';
import { loadConfig, type AppConfig } from './config/config';

const SCRAPE = 'vigil:metrics:scrape';
const SCRAPED = 'vigil:metrics:scraped';
const COLLECT = 'vigil:metrics:collect';
const COLLECTED = 'vigil:metrics:collected';
const COLLECT_TIMEOUT_MS = 3000;

type MetricsJson = MetricObjectWithValues<MetricValue<string>>[];
type ClusterMessage =
  | { type: typeof SCRAPE; id: number }
  | { type: typeof SCRAPED; id: number; text?: string; contentType?: string; error?: string }
  | { type: typeof COLLECT; id: number }
  | { type: typeof COLLECTED; id: number; metrics?: MetricsJson; error?: string };

/**
 * Gauges that describe shared state (what is served, drift and quality of a model): every worker
 * that has them reports the same value, so summing would multiply it by the number of workers.
 */
export const STATE_GAUGES = new Set([
  'vigil_model_info',
  'vigil_drift_score',
  'vigil_feature_drift_detected',
  'vigil_dataset_drift_share_ratio',
  'vigil_dataset_drift_detected',
  'vigil_live_quality',
  'vigil_training_quality',
  'vigil_last_evaluation_timestamp_seconds',
]);

/** Merges the workers' registries (as `getMetricsAsJSON()`) into one Prometheus exposition. */
export async function aggregateWorkerMetrics(
  perWorker: MetricsJson[],
): Promise<{ text: string; contentType: string }> {
  const adjusted = perWorker.map((metrics) =>
    metrics.map((metric) =>
      STATE_GAUGES.has(metric.name) ? { ...metric, aggregator: 'max' as const } : metric,
    ),
  );
  const registry = AggregatorRegistry.aggregate(adjusted);
  return { text: await registry.metrics(), contentType: registry.contentType };
}

function isMessage(value: unknown): value is ClusterMessage {
  return (
    typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string'
  );
}

/** The primary writes few lines (forks, exits): plain ECS JSON, no app code loaded here. */
function log(level: 'info' | 'warn' | 'error', message: string, fields: Record<string, unknown> = {}): void {
  const line = {
    '@timestamp': new Date().toISOString(),
    'log.level': level,
    message,
    'service.name': 'vigil',
    'process.pid': process.pid,
    'event.dataset': 'vigil.cluster',
    ...fields,
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

// --- Primary -----------------------------------------------------------------------------------------

function runPrimary(config: AppConfig): void {
  const count = config.WORKERS > 0 ? config.WORKERS : availableParallelism();
  const slots = new Map<Worker, number>();
  const listening = new Set<Worker>();
  const crashes = new Map<number, number[]>();
  const pending = new Map<number, { expected: number; results: MetricsJson[]; finish: () => void }>();
  let nextCollectId = 0;
  let shuttingDown = false;

  // Followers leave registry bootstrap and scheduled monitoring to the leader (slot 0).
  const followerEnv = {
    BOOTSTRAP_MODELS: 'false',
    EVALUATION_INTERVAL_MS: '0',
    RETRAIN_EVERY_FEEDBACK: '0',
    RETRAIN_ON_DRIFT: 'false',
    RETRAIN_QUALITY_THRESHOLD: '0',
  };
  const fork = (slot: number): Worker => {
    const worker = cluster.fork(slot === 0 ? {} : followerEnv);
    slots.set(worker, slot);
    return worker;
  };

  const collect = (requester: Worker, id: number): void => {
    // Only workers that listen: one still booting has no registry to answer with yet.
    const workers = [...listening].filter((worker) => worker.isConnected());
    const collectId = nextCollectId++;
    const entry = {
      expected: workers.length,
      results: [] as MetricsJson[],
      finish: () => {
        clearTimeout(timer);
        pending.delete(collectId);
        aggregateWorkerMetrics(entry.results).then(
          ({ text, contentType }) => sendSafely(requester, { type: SCRAPED, id, text, contentType }),
          (error: unknown) => sendSafely(requester, { type: SCRAPED, id, error: String(error) }),
        );
      },
    };
    // A worker that does not answer in time (restarting, stuck) is left out of this scrape.
    const timer = setTimeout(() => entry.finish(), COLLECT_TIMEOUT_MS);
    pending.set(collectId, entry);
    for (const worker of workers) sendSafely(worker, { type: COLLECT, id: collectId });
    if (workers.length === 0) entry.finish();
  };

  cluster.on('message', (worker: Worker, message: unknown) => {
    if (!isMessage(message)) return;
    if (message.type === SCRAPE) collect(worker, message.id);
    if (message.type === COLLECTED) {
      const entry = pending.get(message.id);
      if (entry === undefined) return;
      if (message.metrics !== undefined) entry.results.push(message.metrics);
      entry.expected -= 1;
      if (entry.expected === 0) entry.finish();
    }
  });

  cluster.on('exit', (worker: Worker, code: number | null, signal: string | null) => {
    const slot = slots.get(worker) ?? -1;
    slots.delete(worker);
    listening.delete(worker);
    if (shuttingDown) {
      if (slots.size === 0) process.exit(0);
      return;
    }
    const now = Date.now();
    const recent = (crashes.get(slot) ?? []).filter((time) => now - time < 60_000);
    recent.push(now);
    crashes.set(slot, recent);
    if (recent.length > 5) {
      log('error', `worker ${slot} crashed ${recent.length} times in a minute; not restarting it`, {
        'event.action': 'worker-abandoned',
      });
      if (slots.size === 0) process.exit(1);
      return;
    }
    log('warn', `worker ${slot} exited (code ${code}, signal ${signal}); restarting`, {
      'event.action': 'worker-restart',
    });
    // Not unref(): with no worker left, this timer is what keeps the primary alive until the restart.
    setTimeout(() => fork(slot), 1000);
  });

  const shutdown = (signal: NodeJS.Signals): void => {
    if (shuttingDown) return;
    shuttingDown = true;
    log('info', `${signal}: stopping ${slots.size} worker(s)`, { 'event.action': 'shutdown' });
    for (const worker of slots.keys()) worker.process.kill('SIGTERM');
    if (slots.size === 0) process.exit(0);
    // Workers drain within SHUTDOWN_TIMEOUT_MS; whatever is left after that and a margin is killed.
    setTimeout(() => {
      for (const worker of slots.keys()) worker.process.kill('SIGKILL');
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT_MS + 5000).unref();
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);

  log('info', `starting ${count} worker(s) on port ${config.PORT}`, { 'event.action': 'startup' });
  // The leader first: it migrates and bootstraps the registry before anyone else opens it.
  // (A leader that crashes before listening is restarted; the followers wait for whichever listens.)
  let followersStarted = false;
  let announced = false;
  cluster.on('listening', (worker: Worker) => {
    listening.add(worker);
    if (!announced && listening.size === count) {
      announced = true;
      log('info', `all ${count} worker(s) listening`, { 'event.action': 'cluster-ready' });
    }
    if (followersStarted || slots.get(worker) !== 0) return;
    followersStarted = true;
    for (let slot = 1; slot < count; slot += 1) fork(slot);
  });
  fork(0);
}

function sendSafely(worker: Worker, message: ClusterMessage): void {
  if (!worker.isConnected()) return;
  try {
    worker.send(message);
  } catch {
    // The worker went away between the check and the send: the scrape times out instead.
  }
}

// --- Worker ------------------------------------------------------------------------------------------

/**
 * Answers the primary's collection requests from this worker's registry, and routes `GET /metrics`
 * received here through the primary so that every scrape sees the whole cluster.
 */
export function serveClusterMetrics(fastify: FastifyInstance, registry: Registry): void {
  const waiting = new Map<number, (message: Extract<ClusterMessage, { type: typeof SCRAPED }>) => void>();
  let nextId = 0;
  process.on('message', (message: unknown) => {
    if (!isMessage(message)) return;
    if (message.type === COLLECT) {
      registry.getMetricsAsJSON().then(
        (metrics) => process.send?.({ type: COLLECTED, id: message.id, metrics }),
        (error: unknown) => process.send?.({ type: COLLECTED, id: message.id, error: String(error) }),
      );
    } else if (message.type === SCRAPED) {
      waiting.get(message.id)?.(message);
    }
  });

  // preHandler: after the telemetry onRequest hooks (route label, active gauge), instead of the
  // local handler, which would only see this worker.
  fastify.addHook('preHandler', (request, reply, done) => {
    if (request.method !== 'GET' || request.routeOptions.url !== '/metrics') {
      done();
      return;
    }
    const id = nextId++;
    const timer = setTimeout(() => {
      waiting.delete(id);
      void reply
        .code(503)
        .type('text/plain')
        .send('cluster metrics unavailable: the primary did not answer\n');
    }, COLLECT_TIMEOUT_MS + 2000);
    waiting.set(id, (answer) => {
      clearTimeout(timer);
      waiting.delete(id);
      if (answer.text === undefined) {
        void reply
          .code(503)
          .type('text/plain')
          .send(`cluster metrics unavailable: ${answer.error ?? 'unknown'}\n`);
      } else {
        void reply.type(answer.contentType ?? 'text/plain').send(answer.text);
      }
    });
    process.send?.({ type: SCRAPE, id });
  });
}

/** main.ts plus the cluster `/metrics` route: keep the two in step. */
async function runWorker(config: AppConfig): Promise<void> {
  const { limitHeapGrowth } = await import('./common/heap-growth');
  limitHeapGrowth(config.HEAP_GROWTH_PERCENT);
  // Same order as main.ts: tracing must patch `http` before Fastify and Nest load.
  await import('./telemetry/instrument');
  await import('reflect-metadata');
  const { createApp } = await import('./app');
  const { installShutdownSignals } = await import('./health/shutdown.hooks');
  const { Metrics } = await import('./telemetry/metrics');
  const { AppLogger } = await import('./telemetry/logger');
  const app = await createApp(config);
  installShutdownSignals(app);
  if (config.METRICS_ENABLED)
    serveClusterMetrics(app.getHttpAdapter().getInstance(), app.get(Metrics).registry);
  await app.listen({ port: config.PORT, host: config.HOST });
  const { HelperThreadPriority } = await import('./common/thread-priority');
  new HelperThreadPriority(config.HELPER_THREAD_NICE).start();
  app.get(AppLogger).info(`Vigil worker ${cluster.worker?.id ?? '?'} listening on port ${config.PORT}`, {
    'event.action': 'startup',
  });
}

function main(): void {
  const config = loadConfig();
  if (cluster.isPrimary) runPrimary(config);
  else
    runWorker(config).catch((error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    });
}

if (require.main === module) {
  try {
    main();
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}
