/**
 * Shared by the metrics-stack tests (prometheus-*, alertmanager-*, grafana-*, metrics-stack*): where
 * the config lives, the system tools, and PromQL parsing (the official Prometheus Lezer grammar, so
 * that metric names are read from the syntax tree, not guessed with regular expressions).
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { parser } from '@prometheus-io/lezer-promql';
import { load as loadYaml } from 'js-yaml';
import { Metrics } from '../../src/telemetry/metrics';

export const REPO_ROOT = resolve(__dirname, '../..');
export const PROMETHEUS_DIR = join(REPO_ROOT, 'prometheus');
export const RULES_DIR = join(PROMETHEUS_DIR, 'rules');
export const RULE_TESTS_DIR = join(PROMETHEUS_DIR, 'tests');
export const ALERTMANAGER_CONFIG = join(REPO_ROOT, 'monitoring/alertmanager/alertmanager.yml');
export const GRAFANA_DIR = join(REPO_ROOT, 'grafana');
export const DASHBOARDS_DIR = join(GRAFANA_DIR, 'dashboards');
export const RUNBOOK = join(REPO_ROOT, 'docs/runbook.md');

/**
 * Series that only cAdvisor and node-exporter export: they cannot exist when the stack test runs the
 * API alone, so expressions using them are executed (they must parse and evaluate) but may be empty.
 */
export const CADVISOR_METRICS = [
  'container_cpu_usage_seconds_total',
  'container_cpu_cfs_periods_total',
  'container_cpu_cfs_throttled_periods_total',
  'container_spec_cpu_quota',
  'container_spec_cpu_period',
  'container_memory_working_set_bytes',
  'container_spec_memory_limit_bytes',
  'container_network_receive_bytes_total',
  'container_network_transmit_bytes_total',
] as const;
export const NODE_EXPORTER_METRICS = [
  'node_cpu_seconds_total',
  'node_memory_MemAvailable_bytes',
  'node_memory_MemTotal_bytes',
  'node_filesystem_avail_bytes',
  'node_filesystem_size_bytes',
  'node_uname_info',
] as const;
export const UNAVAILABLE_IN_TEST = new Set<string>([...CADVISOR_METRICS, ...NODE_EXPORTER_METRICS]);
/** Written by Prometheus itself for every target. */
export const PROMETHEUS_SERIES = new Set(['up']);

// --- System tools -------------------------------------------------------------------------------------

const INSTALL_HINT: Record<string, string> = {
  promtool: 'apt-get install -y prometheus   (or: make system-deps)',
  prometheus: 'apt-get install -y prometheus   (or: make system-deps)',
  amtool: 'apt-get install -y prometheus-alertmanager   (or: make system-deps)',
  'prometheus-alertmanager': 'apt-get install -y prometheus-alertmanager   (or: make system-deps)',
};

/** The absolute path of a system tool; throws with the install command when it is missing. */
export function requireTool(binary: string): string {
  const found = spawnSync('sh', ['-c', `command -v ${binary}`], { encoding: 'utf8' });
  const path = found.stdout.trim();
  if (found.status !== 0 || path === '') {
    throw new Error(
      `${binary} is not installed. Install it with: ${INSTALL_HINT[binary] ?? `apt-get install -y ${binary}`}`,
    );
  }
  return path;
}

export interface ToolResult {
  status: number | null;
  stdout: string;
  /** stdout and stderr together. */
  output: string;
}

export function runTool(binary: string, args: string[], cwd = REPO_ROOT): ToolResult {
  const result = spawnSync(requireTool(binary), args, { cwd, encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, stdout: result.stdout, output: `${result.stdout}${result.stderr}` };
}

/** A TCP port free right now on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        reject(new Error('no port'));
        return;
      }
      server.close(() => resolvePort(address.port));
    });
  });
}

// --- PromQL -------------------------------------------------------------------------------------------

/** Syntax errors of a PromQL expression (empty when it parses). */
export function promqlSyntaxErrors(expr: string): string[] {
  const errors: string[] = [];
  const cursor = parser.parse(expr).cursor();
  do {
    if (cursor.type.isError) {
      errors.push(
        `syntax error at ${cursor.from}: …${expr.slice(Math.max(0, cursor.from - 20), cursor.from + 20)}…`,
      );
    }
  } while (cursor.next());
  return errors;
}

/**
 * Every metric name an expression selects: the identifier of each vector selector, or its
 * `__name__="…"` matcher. Label names, function names, keywords and strings are never taken.
 */
export function metricNamesIn(expr: string): string[] {
  const names = new Set<string>();
  const cursor = parser.parse(expr).cursor();
  do {
    if (cursor.name !== 'VectorSelector') continue;
    const selector = cursor.node;
    const identifier = selector.getChild('Identifier');
    if (identifier !== null) {
      names.add(expr.slice(identifier.from, identifier.to));
      continue;
    }
    const matchers = selector.getChild('LabelMatchers');
    for (const matcher of matchers?.getChildren('UnquotedLabelMatcher') ?? []) {
      const label = matcher.getChild('LabelName');
      const value = matcher.getChild('StringLiteral');
      const op = matcher.getChild('MatchOp');
      if (label === null || value === null || op === null) continue;
      if (expr.slice(label.from, label.to) === '__name__' && expr.slice(op.from, op.to) === '=') {
        names.add(expr.slice(value.from + 1, value.to - 1));
      }
    }
  } while (cursor.next());
  return [...names];
}

/** Grafana's `label_values(selector, label)` → the selector, as PromQL. */
export function labelValuesSelector(query: string): string {
  const match = /^\s*label_values\(\s*(.+?)\s*,\s*[a-zA-Z_]\w*\s*\)\s*$/s.exec(query);
  if (match === null) throw new Error(`not a label_values(selector, label) query: ${query}`);
  return match[1]!;
}

/**
 * Grafana's template variables replaced the way Grafana does for "All" (`.+`), and its interval
 * variables by fixed durations suited to the scrape interval at hand.
 */
export function substituteVariables(expr: string, rateInterval: string, interval = '1s'): string {
  return expr
    .replaceAll('$__rate_interval', rateInterval)
    .replaceAll('${__rate_interval}', rateInterval)
    .replaceAll('$__interval', interval)
    .replaceAll('${__interval}', interval)
    .replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g, '.+');
}

// --- Rules --------------------------------------------------------------------------------------------

export interface RecordingRule {
  file: string;
  group: string;
  record: string;
  expr: string;
}
export interface AlertingRule {
  file: string;
  group: string;
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

interface RuleFile {
  groups: { name: string; rules: Record<string, unknown>[] }[];
}

export function ruleFiles(): string[] {
  return readdirSync(RULES_DIR)
    .filter((name) => name.endsWith('.yml') || name.endsWith('.yaml'))
    .sort()
    .map((name) => join(RULES_DIR, name));
}

export function loadRules(): { recording: RecordingRule[]; alerting: AlertingRule[] } {
  const recording: RecordingRule[] = [];
  const alerting: AlertingRule[] = [];
  for (const file of ruleFiles()) {
    const parsed = loadYaml(readFileSync(file, 'utf8')) as RuleFile;
    for (const group of parsed.groups) {
      for (const rule of group.rules) {
        const expr = String(rule.expr);
        if (typeof rule.record === 'string') {
          recording.push({ file, group: group.name, record: rule.record, expr });
        } else if (typeof rule.alert === 'string') {
          alerting.push({
            file,
            group: group.name,
            alert: rule.alert,
            expr,
            ...(typeof rule.for === 'string' ? { for: rule.for } : {}),
            labels: (rule.labels ?? {}) as Record<string, string>,
            annotations: (rule.annotations ?? {}) as Record<string, string>,
          });
        }
      }
    }
  }
  return { recording, alerting };
}

// --- Dashboards ---------------------------------------------------------------------------------------

export interface DashboardTarget {
  refId: string;
  expr: string;
  datasource?: { type?: string; uid?: string };
  format?: string;
  instant?: boolean;
}
export interface DashboardPanel {
  id: number;
  type: string;
  title: string;
  description?: string;
  datasource?: { type?: string; uid?: string };
  gridPos: { h: number; w: number; x: number; y: number };
  fieldConfig?: { defaults?: { unit?: string } };
  targets?: DashboardTarget[];
  panels?: DashboardPanel[];
}
export interface DashboardVariable {
  name: string;
  type: string;
  query: string | { query: string };
  includeAll?: boolean;
  allValue?: string;
  datasource?: { type?: string; uid?: string };
}
export interface DashboardAnnotation {
  name: string;
  expr?: string;
  datasource?: { type?: string; uid?: string };
  builtIn?: number;
}
export interface Dashboard {
  uid: string;
  title: string;
  panels: DashboardPanel[];
  templating: { list: DashboardVariable[] };
  annotations: { list: DashboardAnnotation[] };
}

export function dashboardFiles(): string[] {
  return readdirSync(DASHBOARDS_DIR)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => join(DASHBOARDS_DIR, name));
}

export function loadDashboards(): { file: string; dashboard: Dashboard }[] {
  return dashboardFiles().map((file) => ({
    file,
    dashboard: JSON.parse(readFileSync(file, 'utf8')) as Dashboard,
  }));
}

/** Every panel, rows' nested panels included, rows themselves excluded. */
export function panelsOf(dashboard: Dashboard): DashboardPanel[] {
  const out: DashboardPanel[] = [];
  const visit = (panels: DashboardPanel[]): void => {
    for (const panel of panels) {
      if (panel.type === 'row') visit(panel.panels ?? []);
      else out.push(panel);
    }
  };
  visit(dashboard.panels);
  return out;
}

export interface PanelQuery {
  dashboard: string;
  panel: string;
  refId: string;
  expr: string;
}

export function panelQueries(): PanelQuery[] {
  return loadDashboards().flatMap(({ dashboard }) =>
    panelsOf(dashboard).flatMap((panel) =>
      (panel.targets ?? []).map((target) => ({
        dashboard: dashboard.title,
        panel: panel.title,
        refId: target.refId,
        expr: target.expr,
      })),
    ),
  );
}

export function variableQueries(): { dashboard: string; name: string; query: string }[] {
  return loadDashboards().flatMap(({ dashboard }) =>
    dashboard.templating.list
      .filter((variable) => variable.type === 'query')
      .map((variable) => ({
        dashboard: dashboard.title,
        name: variable.name,
        query: typeof variable.query === 'string' ? variable.query : variable.query.query,
      })),
  );
}

export function annotationQueries(): { dashboard: string; name: string; expr: string }[] {
  return loadDashboards().flatMap(({ dashboard }) =>
    dashboard.annotations.list
      .filter((annotation) => annotation.builtIn !== 1 && typeof annotation.expr === 'string')
      .map((annotation) => ({ dashboard: dashboard.title, name: annotation.name, expr: annotation.expr! })),
  );
}

// --- What the service exports -------------------------------------------------------------------------

/**
 * Every series name the service's registry exports (catalog + prom-client's Node defaults), with the
 * `_bucket` / `_sum` / `_count` series of histograms and summaries.
 */
export async function exportedMetricNames(): Promise<Set<string>> {
  const metrics = new Metrics();
  const names = new Set<string>();
  for (const metric of await metrics.registry.getMetricsAsJSON()) {
    const type = String(metric.type);
    if (type === 'histogram') {
      for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${metric.name}${suffix}`);
    } else if (type === 'summary') {
      for (const suffix of ['', '_sum', '_count']) names.add(`${metric.name}${suffix}`);
    } else {
      names.add(metric.name);
    }
  }
  metrics.registry.clear();
  return names;
}
