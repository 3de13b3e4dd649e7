import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { load as loadYaml } from 'js-yaml';
import {
  annotationQueries,
  type Dashboard,
  GRAFANA_DIR,
  loadDashboards,
  panelsOf,
  PROMETHEUS_DIR,
  promqlSyntaxErrors,
  substituteVariables,
} from './metrics-stack.support';

interface ProvisionedDatasource {
  name: string;
  uid: string;
  type: string;
  url: string;
  isDefault?: boolean;
  jsonData?: Record<string, unknown>;
}

const datasources = (
  loadYaml(readFileSync(join(GRAFANA_DIR, 'provisioning/datasources/datasources.yml'), 'utf8')) as {
    datasources: ProvisionedDatasource[];
  }
).datasources;
const byUid = (uid: string): ProvisionedDatasource => {
  const found = datasources.find((datasource) => datasource.uid === uid);
  if (found === undefined) throw new Error(`no data source with uid ${uid}`);
  return found;
};
const dashboards = loadDashboards();
const dashboardByUid = (uid: string): Dashboard => {
  const found = dashboards.find(({ dashboard }) => dashboard.uid === uid);
  if (found === undefined) throw new Error(`no dashboard ${uid}`);
  return found.dashboard;
};

describe('Grafana provisioning', () => {
  it('provisions Prometheus, Elasticsearch and Jaeger with the fixed uids the dashboards and links use', () => {
    expect(byUid('prometheus')).toMatchObject({
      type: 'prometheus',
      url: 'http://prometheus:9090',
      isDefault: true,
    });
    expect(byUid('elasticsearch')).toMatchObject({
      type: 'elasticsearch',
      url: 'http://elasticsearch:9200',
      jsonData: { index: 'logs-vigil-*', timeField: '@timestamp' },
    });
    expect(byUid('jaeger')).toMatchObject({ type: 'jaeger', url: 'http://jaeger:16686' });
  });

  it('links traces to logs by trace id, and log lines back to their trace', () => {
    const tracesToLogs = byUid('jaeger').jsonData?.tracesToLogsV2 as Record<string, unknown>;
    expect(tracesToLogs).toMatchObject({ datasourceUid: 'elasticsearch', customQuery: true });
    // `$$` survives Grafana's environment-variable expansion of provisioning files as one `$`.
    expect(tracesToLogs.query).toBe('trace.id:"$${__trace.traceId}"');
    expect(byUid('elasticsearch').jsonData?.dataLinks).toEqual([
      expect.objectContaining({ field: 'trace.id', datasourceUid: 'jaeger', url: '$${__value.raw}' }),
    ]);
  });

  it("declares Prometheus' scrape interval, so that $__rate_interval always spans four scrapes", () => {
    const prometheusYml = loadYaml(readFileSync(join(PROMETHEUS_DIR, 'prometheus.yml'), 'utf8')) as {
      global: { scrape_interval: string };
      scrape_configs: { scrape_interval?: string }[];
    };
    expect(byUid('prometheus').jsonData?.timeInterval).toBe(prometheusYml.global.scrape_interval);
    expect(prometheusYml.scrape_configs.filter((config) => config.scrape_interval !== undefined)).toEqual([]);
  });

  it('loads the dashboards from the directory docker-compose mounts', () => {
    const provider = loadYaml(
      readFileSync(join(GRAFANA_DIR, 'provisioning/dashboards/dashboards.yml'), 'utf8'),
    ) as {
      providers: { type: string; options: { path: string } }[];
    };
    expect(provider.providers).toEqual([
      expect.objectContaining({
        type: 'file',
        options: expect.objectContaining({ path: '/var/lib/grafana/dashboards' }),
      }),
    ]);
  });
});

describe('Grafana dashboards', () => {
  it('are the output of grafana/generate-dashboards.mjs (no hand edits lost on the next generation)', () => {
    const result = spawnSync(process.execPath, [join(GRAFANA_DIR, 'generate-dashboards.mjs'), '--check'], {
      encoding: 'utf8',
    });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('are Service, Model and Containers, with unique uids', () => {
    expect(dashboards.map(({ dashboard }) => dashboard.uid).sort()).toEqual([
      'vigil-containers',
      'vigil-model',
      'vigil-service',
    ]);
  });

  it.each([
    ['vigil-service', ['datasource', 'job', 'instance']],
    ['vigil-model', ['datasource', 'job', 'instance', 'model']],
    ['vigil-containers', ['datasource', 'job', 'instance']],
  ])('%s is templated on %j', (uid, variables) => {
    const names = dashboardByUid(uid).templating.list.map((variable) => variable.name);
    expect(names).toEqual(expect.arrayContaining(variables));
    const datasource = dashboardByUid(uid).templating.list.find((variable) => variable.name === 'datasource');
    expect(datasource).toMatchObject({ type: 'datasource', query: 'prometheus' });
  });

  describe.each(dashboards.map(({ dashboard }) => [dashboard.title, dashboard] as const))(
    '%s',
    (_title, dashboard) => {
      const panels = panelsOf(dashboard);

      it('every panel queries the templated data source, has targets, a unit and a description', () => {
        const problems = panels.flatMap((panel) => {
          const found: string[] = [];
          if (panel.datasource?.uid !== '${datasource}') found.push('panel data source is not ${datasource}');
          if ((panel.targets ?? []).length === 0) found.push('no target');
          for (const target of panel.targets ?? []) {
            if (target.datasource?.uid !== '${datasource}')
              found.push(`${target.refId}: data source is not \${datasource}`);
            if (typeof target.expr !== 'string' || target.expr.trim() === '')
              found.push(`${target.refId}: no expr`);
          }
          const refIds = (panel.targets ?? []).map((target) => target.refId);
          if (new Set(refIds).size !== refIds.length) found.push('duplicate refId');
          if (!panel.fieldConfig?.defaults?.unit) found.push('no unit');
          if (!panel.description) found.push('no description');
          return found.map((problem) => `${panel.title}: ${problem}`);
        });
        expect(problems).toEqual([]);
      });

      it('every rate() / increase() window is $__rate_interval and every selector filters on the variables', () => {
        const problems = panels.flatMap((panel) =>
          (panel.targets ?? []).flatMap((target) => {
            const found: string[] = [];
            for (const window of target.expr.matchAll(/\[([^\]]+)\]/g)) {
              if (window[1] !== '$__rate_interval') found.push(`window [${window[1]}]`);
            }
            if (!/\$(job|api_job|node)\b/.test(target.expr)) found.push('no $job filter');
            if (promqlSyntaxErrors(substituteVariables(target.expr, '1m')).length > 0)
              found.push('syntax error');
            return found.map((problem) => `${panel.title} ${target.refId}: ${problem}`);
          }),
        );
        expect(problems).toEqual([]);
      });

      it('panels sit on the 24-column grid without overlapping', () => {
        const cells = new Set<string>();
        const overlaps: string[] = [];
        for (const panel of dashboard.panels) {
          const { x, y, w, h } = panel.gridPos;
          expect(x + w).toBeLessThanOrEqual(24);
          for (let row = y; row < y + h; row++) {
            for (let column = x; column < x + w; column++) {
              const cell = `${row}:${column}`;
              if (cells.has(cell)) overlaps.push(`${panel.title} at ${cell}`);
              cells.add(cell);
            }
          }
        }
        expect(overlaps).toEqual([]);
      });

      it('panel ids are unique', () => {
        const ids = dashboard.panels.map((panel) => panel.id);
        expect(new Set(ids).size).toBe(ids.length);
      });
    },
  );

  it('the Model dashboard shows version changes as annotations from vigil_model_info and vigil_model_swaps_total', () => {
    const annotations = annotationQueries().filter((annotation) => annotation.dashboard === 'Vigil / Model');
    expect(annotations.some((annotation) => annotation.expr.includes('vigil_model_info'))).toBe(true);
    expect(annotations.some((annotation) => annotation.expr.includes('vigil_model_swaps_total'))).toBe(true);
  });

  it('covers what the issue asks of each dashboard', () => {
    const exprs = (uid: string): string =>
      panelsOf(dashboardByUid(uid))
        .flatMap((panel) => (panel.targets ?? []).map((target) => target.expr))
        .join('\n');
    for (const metric of [
      'http_server_request_duration_seconds_count',
      'http_server_request_duration_seconds_bucket',
      'http_server_active_requests',
      'nodejs_eventloop_lag_p99_seconds',
    ]) {
      expect(exprs('vigil-service')).toContain(metric);
    }
    for (const metric of [
      'vigil_predictions_total',
      'vigil_prediction_score_bucket',
      'vigil_inference_duration_seconds_bucket',
      'vigil_inference_batch_size_rows_bucket',
      'vigil_inference_queue_depth_rows',
      'vigil_drift_score',
      'vigil_live_quality',
    ]) {
      expect(exprs('vigil-model')).toContain(metric);
    }
    for (const metric of [
      'container_cpu_usage_seconds_total',
      'container_memory_working_set_bytes',
      'container_spec_memory_limit_bytes',
      'container_network_receive_bytes_total',
    ]) {
      expect(exprs('vigil-containers')).toContain(metric);
    }
  });
});
