/**
 * The test that matters for the metrics stack: the real API (dist/main.js) and a real Prometheus
 * loading the repo's rule files, traffic with errors, slow and large requests, then every recording
 * rule must yield series and every PromQL expression of every dashboard panel must return data —
 * except the cAdvisor / node-exporter series listed in metrics-stack.support.ts, which cannot exist
 * here (their expressions must still evaluate without error).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dump as dumpYaml } from 'js-yaml';
import {
  annotationQueries,
  exportedMetricNames,
  freePort,
  labelValuesSelector,
  loadRules,
  metricNamesIn,
  panelQueries,
  REPO_ROOT,
  requireTool,
  ruleFiles,
  substituteVariables,
  UNAVAILABLE_IN_TEST,
  variableQueries,
} from './metrics-stack.support';

const SCRAPE_INTERVAL = '1s';
/** What Grafana computes for a 1 s scrape interval and a short range: 4 × scrape, with margin. */
const RATE_INTERVAL = '5s';
const TRAFFIC_MS = 8_000;
/** After the traffic: how long to wait for evaluations, scrapes and rule evaluations to catch up. */
const SETTLE_DEADLINE_MS = 30_000;
const ADMIN_TOKEN = 'metrics-stack-test-admin-token';
/**
 * Labelled counters that only appear on their first failure, used only by alerts written for that
 * (`… unless … offset`): a healthy run cannot export them.
 */
/**
 * Pending after the traffic: uniform random inputs are far from the training distributions, and one
 * feedback label in four contradicts the prediction.
 */
const EXPECTED_PENDING_ALERTS = [
  'VigilModelDriftDetected{model=credit,severity=warning} pending',
  'VigilModelDriftDetected{model=iris,severity=warning} pending',
  'VigilLiveQualityBelowThreshold{model=iris,severity=warning} pending',
];

// --- Processes ----------------------------------------------------------------------------------------

interface Started {
  process: ChildProcess;
  /** The last lines it wrote, for failure messages. */
  tail: () => string;
}

function start(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Started {
  const child = spawn(command, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let buffer = '';
  const keep = (chunk: Buffer): void => {
    buffer = (buffer + chunk.toString()).slice(-8_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return { process: child, tail: () => buffer };
}

async function stop(started: Started | undefined): Promise<void> {
  const child = started?.process;
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
  tail: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline)
      throw new Error(`${what} not ready after ${timeoutMs} ms. Last output:\n${tail()}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function newestMtime(directory: string): number {
  let newest = 0;
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts'))
      newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/** `npm run build` unless dist/main.js is newer than every source file (`make test` builds first). */
function ensureBuilt(): string {
  const main = join(REPO_ROOT, 'dist/main.js');
  let built = 0;
  try {
    built = statSync(main).mtimeMs;
  } catch {
    // not built yet
  }
  if (built > newestMtime(join(REPO_ROOT, 'src'))) return main;
  // Serialized: other test files or engineers may build at the same time.
  const result = spawnSync('flock', ['/tmp/vigil-build.lock', 'npm', 'run', 'build'], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: 300_000,
  });
  if (result.status !== 0) throw new Error(`npm run build failed:\n${result.stdout}${result.stderr}`);
  return main;
}

// --- Traffic ------------------------------------------------------------------------------------------

function randomBetween(min: number, max: number, integer = false): number {
  const value = min + Math.random() * (max - min);
  return integer ? Math.round(value) : Number(value.toFixed(3));
}

function irisInstance(outOfRange = false): Record<string, number> {
  return {
    sepal_length: outOfRange ? 12 : randomBetween(4.4, 7.9),
    sepal_width: randomBetween(2.2, 4),
    petal_length: randomBetween(1.2, 6.7),
    petal_width: randomBetween(0.1, 2.5),
  };
}

function pick<T>(values: readonly T[]): T {
  return values[Math.floor(Math.random() * values.length)]!;
}

function creditInstance(): Record<string, number | string> {
  return {
    age: randomBetween(18, 85, true),
    annual_income: randomBetween(8_000, 150_000, true),
    employment_type: pick(['salaried', 'self_employed', 'part_time', 'unemployed', 'retired']),
    credit_history_years: randomBetween(0, 40),
    housing: pick(['own', 'mortgage', 'rent', 'family']),
    loan_purpose: pick([
      'debt_consolidation',
      'home_improvement',
      'car',
      'education',
      'medical',
      'business',
      'other',
    ]),
    loan_amount: randomBetween(1_000, 60_000, true),
    loan_term_months: pick([12, 24, 36, 48, 60]),
    debt_ratio: randomBetween(0.05, 1.5),
    open_credit_lines: randomBetween(0, 15, true),
    late_payments: randomBetween(0, 4, true),
  };
}

interface Prediction {
  id?: string;
  predictionId?: string;
  label?: string;
}

class Traffic {
  readonly statuses = new Map<number, number>();
  private readonly predictionIds: { model: string; id: string; label: string }[] = [];

  constructor(private readonly baseUrl: string) {}

  async request(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<unknown> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    this.statuses.set(response.status, (this.statuses.get(response.status) ?? 0) + 1);
    const text = await response.text();
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }

  private remember(model: string, answer: unknown): void {
    const predictions = (answer as { predictions?: Prediction[] } | undefined)?.predictions ?? [];
    for (const prediction of predictions) {
      const id = prediction.predictionId ?? prediction.id;
      if (typeof id === 'string' && typeof prediction.label === 'string') {
        this.predictionIds.push({ model, id, label: prediction.label });
      }
    }
  }

  /** One round: valid, batched, large, invalid, unknown and overloading requests. */
  async round(): Promise<void> {
    const calls: Promise<unknown>[] = [
      this.request('POST', '/predict', irisInstance()),
      this.request('POST', '/v1/models/iris/predict', {
        instances: [irisInstance(), irisInstance(), irisInstance(true)],
      }).then((answer) => this.remember('iris', answer)),
      this.request('POST', '/v1/models/credit/predict', {
        instances: Array.from({ length: 20 }, creditInstance),
      }).then((answer) => this.remember('credit', answer)),
      this.request('POST', '/v1/models/credit/versions/1/predict', { instances: [creditInstance()] }),
      // 400: a feature missing, a wrong type; 404: unknown model, unknown route.
      this.request('POST', '/predict', { sepal_length: 5.1, sepal_width: 'wide' }),
      this.request('POST', '/v1/models/credit/predict', { instances: [{ ...creditInstance(), age: -3 }] }),
      this.request('POST', '/v1/models/no-such-model/predict', { instances: [irisInstance()] }),
      this.request('GET', '/no/such/route'),
      this.request('GET', '/health/ready'),
    ];
    // Large requests, concurrently: slow, and beyond the small queue some are refused with 503.
    for (let index = 0; index < 4; index++) {
      calls.push(
        this.request('POST', '/v1/models/credit/predict', {
          instances: Array.from({ length: 400 }, creditInstance),
        }),
      );
    }
    await Promise.all(calls);
  }

  /**
   * Ground truth for part of what was predicted: some right, some wrong, so quality is not trivial.
   * One request per label: a prediction the store dropped (counted) answers 404 on its own.
   */
  async feedback(): Promise<void> {
    const batch = this.predictionIds.splice(0, 40);
    await Promise.all(
      batch.map(({ model, id, label }, index) => {
        const classes = model === 'iris' ? ['setosa', 'versicolor', 'virginica'] : ['0', '1'];
        const actual = index % 4 === 0 ? pick(classes.filter((value) => value !== label)) : label;
        return this.request('POST', '/v1/feedback', { predictionId: id, label: actual });
      }),
    );
  }

  /** One batch beyond the prediction store's queue (PREDICTION_STORE_QUEUE_MAX): drops are counted. */
  async overflowPredictionStore(): Promise<void> {
    await this.request('POST', '/v1/models/credit/predict', {
      instances: Array.from({ length: 3000 }, creditInstance),
    });
  }
}

// --- Prometheus HTTP API ------------------------------------------------------------------------------

interface QueryResult {
  status: string;
  error?: string;
  data?: {
    resultType: string;
    result: { metric: Record<string, string>; value?: [number, string]; values?: [number, string][] }[];
  };
}

class PrometheusClient {
  constructor(readonly baseUrl: string) {}

  async get<T>(path: string, params: Record<string, string> = {}): Promise<T> {
    const url = new URL(`${this.baseUrl}${path}`);
    for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
    const response = await fetch(url);
    return (await response.json()) as T;
  }

  instant(query: string): Promise<QueryResult> {
    return this.get<QueryResult>('/api/v1/query', { query });
  }

  range(query: string, startSeconds: number, endSeconds: number): Promise<QueryResult> {
    return this.get<QueryResult>('/api/v1/query_range', {
      query,
      start: String(startSeconds),
      end: String(endSeconds),
      step: '1',
    });
  }
}

/** At least one sample that is a number (histogram_quantile over no traffic yields NaN). */
function hasFiniteSample(result: QueryResult): boolean {
  return (result.data?.result ?? []).some((series) =>
    [...(series.values ?? []), ...(series.value ? [series.value] : [])].some(([, value]) =>
      Number.isFinite(Number(value)),
    ),
  );
}

// --- The test -----------------------------------------------------------------------------------------

interface Findings {
  targets: { job: string; health: string; lastError: string }[];
  ruleHealth: { rule: string; health: string; lastError?: string }[];
  recordingWithoutSeries: string[];
  panelsWithoutData: string[];
  panelsInError: string[];
  exemptPanels: string[];
  variablesWithoutValues: string[];
  annotationsInError: string[];
  missingFromMetricsEndpoint: string[];
  /** `alertname{labels}` of every pending or firing alert. */
  alerts: string[];
}

describe('metrics stack: real API + real Prometheus with the repo rules and dashboards', () => {
  let directory: string;
  let api: Started | undefined;
  let prometheus: Started | undefined;
  let traffic: Traffic;
  let findings: Findings;

  beforeAll(async () => {
    const prometheusBinary = requireTool('prometheus');
    const began = Date.now();
    const main = ensureBuilt();
    const built = Date.now();
    directory = mkdtempSync(join(tmpdir(), 'vigil-metrics-stack-'));
    const [apiPort, prometheusPort, deadPort] = await Promise.all([freePort(), freePort(), freePort()]);
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    const prometheusUrl = `http://127.0.0.1:${prometheusPort}`;

    api = start(process.execPath, [main], {
      ...process.env,
      NODE_ENV: 'test',
      VIGIL_ENV: 'test',
      PORT: String(apiPort),
      HOST: '127.0.0.1',
      DATA_DIR: join(directory, 'data'),
      MODELS_DIR: join(REPO_ROOT, 'models'),
      BOOTSTRAP_MODELS: 'true',
      ADMIN_TOKEN,
      EVALUATION_INTERVAL_MS: '1000',
      MONITOR_WINDOW_SIZE: '500',
      // Small enough that concurrent large batches are refused (503 OVERLOADED) now and then. The
      // prediction store's queue holds a few rounds (the predictions that get feedback must be stored,
      // even when its writer lags on a loaded machine) but not the one 3,000-row batch that overflows it.
      QUEUE_MAX_ROWS: '300',
      PREDICTION_STORE_QUEUE_MAX: '2500',
      MAX_INSTANCES_PER_REQUEST: '3000',
      // The feedback that makes live quality must not be throttled by the per-IP limit.
      RATE_LIMIT_FEEDBACK_PER_MINUTE: '0',
      // Nobody listens there: log shipping and trace export fail, and must only be counted.
      ELASTICSEARCH_URL: `http://127.0.0.1:${deadPort}`,
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${deadPort}`,
      SHUTDOWN_TIMEOUT_MS: '2000',
      LOG_LEVEL: 'info',
    });

    const prometheusConfig = join(directory, 'prometheus.yml');
    writeFileSync(
      prometheusConfig,
      dumpYaml({
        global: {
          scrape_interval: SCRAPE_INTERVAL,
          scrape_timeout: SCRAPE_INTERVAL,
          evaluation_interval: SCRAPE_INTERVAL,
        },
        rule_files: ruleFiles(),
        scrape_configs: [
          {
            job_name: 'vigil-api',
            metrics_path: '/metrics',
            static_configs: [{ targets: [`127.0.0.1:${apiPort}`] }],
          },
          { job_name: 'prometheus', static_configs: [{ targets: [`127.0.0.1:${prometheusPort}`] }] },
        ],
      }),
    );
    prometheus = start(prometheusBinary, [
      `--config.file=${prometheusConfig}`,
      `--storage.tsdb.path=${join(directory, 'tsdb')}`,
      `--web.listen-address=127.0.0.1:${prometheusPort}`,
      '--storage.tsdb.retention.time=1h',
    ]);

    await Promise.all([
      waitUntil('the API', async () => (await fetch(`${apiUrl}/health/ready`)).ok, 60_000, api.tail),
      waitUntil(
        'Prometheus',
        async () => (await fetch(`${prometheusUrl}/-/ready`)).ok,
        20_000,
        prometheus.tail,
      ),
    ]);

    const started = Date.now();
    // --- traffic ---
    traffic = new Traffic(apiUrl);
    const client = new PrometheusClient(prometheusUrl);
    const trafficStart = Date.now() / 1000;
    await traffic.overflowPredictionStore();
    const trafficEnd = Date.now() + TRAFFIC_MS;
    while (Date.now() < trafficEnd) {
      await traffic.round();
      await traffic.feedback();
    }

    // --- wait until every expectation holds (or the deadline), keeping a trickle of traffic ---
    const exported = await exportedMetricNames();
    const recorded = loadRules().recording.map((rule) => rule.record);
    const settleDeadline = Date.now() + SETTLE_DEADLINE_MS;
    for (;;) {
      await traffic.round();
      await traffic.feedback();
      findings = await inspect(client, apiUrl, trafficStart, exported, recorded);
      const done =
        findings.targets.every((target) => target.health === 'up') &&
        findings.ruleHealth.every((rule) => rule.health === 'ok') &&
        findings.recordingWithoutSeries.length === 0 &&
        findings.panelsWithoutData.length === 0 &&
        findings.panelsInError.length === 0 &&
        findings.variablesWithoutValues.length === 0 &&
        findings.annotationsInError.length === 0 &&
        findings.missingFromMetricsEndpoint.length === 0 &&
        EXPECTED_PENDING_ALERTS.every((alert) => findings.alerts.includes(alert));
      if (done || Date.now() > settleDeadline) break;
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
    process.stdout.write(
      `metrics-stack timings: build ${built - began} ms, start ${started - built} ms, ` +
        `traffic ${TRAFFIC_MS} ms, settle ${Date.now() - started - TRAFFIC_MS} ms\n`,
    );
  }, 240_000);

  afterAll(async () => {
    await Promise.all([stop(api), stop(prometheus)]);
    if (directory !== undefined) rmSync(directory, { recursive: true, force: true });
  }, 20_000);

  it('the traffic had successes, client errors and refusals', () => {
    const statuses = Object.fromEntries(traffic.statuses);
    process.stdout.write(`metrics-stack traffic by status: ${JSON.stringify(statuses)}\n`);
    expect(statuses[200]).toBeGreaterThan(0);
    expect(statuses[400]).toBeGreaterThan(0);
    expect(statuses[404]).toBeGreaterThan(0);
  });

  it('every scrape target is up', () => {
    expect(findings.targets.map((target) => target.job).sort()).toEqual(['prometheus', 'vigil-api']);
    expect(findings.targets.filter((target) => target.health !== 'up')).toEqual([]);
  });

  it('every rule of the repo is loaded and evaluates without error', () => {
    const { recording, alerting } = loadRules();
    expect(findings.ruleHealth).toHaveLength(recording.length + alerting.length);
    expect(findings.ruleHealth.filter((rule) => rule.health !== 'ok')).toEqual([]);
  });

  it('every recording rule yields series', () => {
    expect(findings.recordingWithoutSeries).toEqual([]);
  });

  it('every dashboard panel expression returns data (cAdvisor / node-exporter ones excepted, but they evaluate)', () => {
    expect(findings.panelsInError).toEqual([]);
    expect(findings.panelsWithoutData).toEqual([]);
    // The exemption is exactly the panels that read cAdvisor or node-exporter series.
    expect(findings.exemptPanels.length).toBeGreaterThan(0);
    expect(findings.exemptPanels.every((panel) => panel.startsWith('Vigil / Containers'))).toBe(true);
  });

  it('every template variable has values, every annotation query evaluates', () => {
    expect(findings.variablesWithoutValues).toEqual([]);
    expect(findings.annotationsInError).toEqual([]);
  });

  it('alerts read the real series: drift on random inputs and 25 % wrong feedback make them pending', () => {
    process.stdout.write(`metrics-stack alerts: ${JSON.stringify(findings.alerts)}\n`);
    // The monitoring gauges carry the labels the alert rules aggregate and join on.
    expect(findings.alerts).toEqual(expect.arrayContaining(EXPECTED_PENDING_ALERTS));
  });

  it('/metrics exports every service metric that grafana/ and prometheus/ use', () => {
    expect(findings.missingFromMetricsEndpoint).toEqual([]);
  });
});

async function inspect(
  client: PrometheusClient,
  apiUrl: string,
  startSeconds: number,
  exported: Set<string>,
  recorded: string[],
): Promise<Findings> {
  const end = Date.now() / 1000;
  const targets = await client.get<{
    data: { activeTargets: { labels: Record<string, string>; health: string; lastError: string }[] };
  }>('/api/v1/targets');
  const rules = await client.get<{
    data: { groups: { rules: { name: string; health: string; lastError?: string }[] }[] };
  }>('/api/v1/rules');

  const recordingWithoutSeries: string[] = [];
  await Promise.all(
    recorded.map(async (record) => {
      const result = await client.instant(record);
      if ((result.data?.result ?? []).length === 0) recordingWithoutSeries.push(record);
    }),
  );

  const panelsWithoutData: string[] = [];
  const panelsInError: string[] = [];
  const exemptPanels: string[] = [];
  await Promise.all(
    panelQueries().map(async (query) => {
      const where = `${query.dashboard} / ${query.panel} / ${query.refId}`;
      const expr = substituteVariables(query.expr, RATE_INTERVAL);
      const result = await client.range(expr, startSeconds, end);
      if (result.status !== 'success') {
        panelsInError.push(`${where}: ${result.error ?? 'error'}`);
        return;
      }
      const unavailable = metricNamesIn(expr).filter((name) => UNAVAILABLE_IN_TEST.has(name));
      if (unavailable.length > 0) exemptPanels.push(`${where} (${unavailable.join(', ')})`);
      else if (!hasFiniteSample(result)) panelsWithoutData.push(`${where}: ${expr}`);
    }),
  );

  const variablesWithoutValues: string[] = [];
  await Promise.all(
    variableQueries().map(async (variable) => {
      const selector = substituteVariables(labelValuesSelector(variable.query), RATE_INTERVAL);
      if (metricNamesIn(selector).some((name) => UNAVAILABLE_IN_TEST.has(name))) return;
      const result = await client.instant(selector);
      if ((result.data?.result ?? []).length === 0)
        variablesWithoutValues.push(`${variable.dashboard} / $${variable.name}: ${selector}`);
    }),
  );

  const annotationsInError: string[] = [];
  await Promise.all(
    annotationQueries().map(async (annotation) => {
      const result = await client.range(
        substituteVariables(annotation.expr, RATE_INTERVAL),
        startSeconds,
        end,
      );
      if (result.status !== 'success')
        annotationsInError.push(`${annotation.dashboard} / ${annotation.name}: ${result.error}`);
    }),
  );

  // The service's own names used anywhere in grafana/ or prometheus/ must be on /metrics after traffic.
  const scraped = await (await fetch(`${apiUrl}/metrics`)).text();
  const present = new Set(
    scraped.split('\n').flatMap((line) => (/^([a-zA-Z_:][\w:]*)[{ ]/.exec(line)?.[1] ?? []) as string[]),
  );
  const used = new Set([
    ...loadRules().recording.flatMap((rule) => metricNamesIn(rule.expr)),
    ...loadRules().alerting.flatMap((rule) => metricNamesIn(rule.expr)),
    ...panelQueries().flatMap((query) => metricNamesIn(substituteVariables(query.expr, RATE_INTERVAL))),
  ]);
  const missingFromMetricsEndpoint = [...used]
    .filter((name) => exported.has(name) && !present.has(name))
    .sort();

  const alertsResult = await client.instant('ALERTS');
  const alerts = (alertsResult.data?.result ?? [])
    .map(({ metric }) => {
      const { __name__: _name, alertname, alertstate, ...labels } = metric;
      const rest = Object.entries(labels)
        .filter(([key]) => ['sink', 'reason', 'model', 'severity'].includes(key))
        .map(([key, value]) => `${key}=${value}`)
        .join(',');
      return `${alertname}{${rest}} ${alertstate}`;
    })
    .sort();

  return {
    alerts,
    targets: targets.data.activeTargets.map((target) => ({
      job: target.labels.job ?? '',
      health: target.health,
      lastError: target.lastError,
    })),
    ruleHealth: rules.data.groups.flatMap((group) =>
      group.rules.map((rule) => ({
        rule: rule.name,
        health: rule.health,
        ...(rule.lastError ? { lastError: rule.lastError } : {}),
      })),
    ),
    recordingWithoutSeries: recordingWithoutSeries.sort(),
    panelsWithoutData: panelsWithoutData.sort(),
    panelsInError: panelsInError.sort(),
    exemptPanels: exemptPanels.sort(),
    variablesWithoutValues: variablesWithoutValues.sort(),
    annotationsInError: annotationsInError.sort(),
    missingFromMetricsEndpoint,
  };
}
