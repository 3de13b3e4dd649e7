import {
  annotationQueries,
  exportedMetricNames,
  labelValuesSelector,
  loadRules,
  metricNamesIn,
  panelQueries,
  PROMETHEUS_SERIES,
  promqlSyntaxErrors,
  substituteVariables,
  UNAVAILABLE_IN_TEST,
  variableQueries,
} from './metrics-stack.support';

/** Every PromQL expression in prometheus/ and grafana/, with where it comes from. */
function everyExpression(): { where: string; expr: string }[] {
  const { recording, alerting } = loadRules();
  return [
    ...recording.map((rule) => ({ where: `recording rule ${rule.record}`, expr: rule.expr })),
    ...alerting.map((rule) => ({ where: `alert ${rule.alert}`, expr: rule.expr })),
    ...panelQueries().map((query) => ({
      where: `${query.dashboard} / ${query.panel} / ${query.refId}`,
      expr: substituteVariables(query.expr, '1m'),
    })),
    ...annotationQueries().map((query) => ({
      where: `${query.dashboard} / annotation ${query.name}`,
      expr: substituteVariables(query.expr, '1m'),
    })),
    ...variableQueries().map((query) => ({
      where: `${query.dashboard} / variable ${query.name}`,
      expr: substituteVariables(labelValuesSelector(query.query), '1m'),
    })),
  ];
}

describe('metric names used by prometheus/ and grafana/', () => {
  it('parses metric names out of PromQL from the syntax tree, not from labels, functions or strings', () => {
    expect(
      metricNamesIn(
        'sum by (job, route) (rate(http_server_request_duration_seconds_count{route!~"/metrics|up"}[5m]))' +
          ' / on (job) group_left (instance) {__name__="up", job="x"}' +
          ' or label_replace(job:foo:rate5m offset 5m, "dst", "$1", "src", "(rate.*)")' +
          ' unless absent(vigil_model_info) > bool 0 or vector(0)',
      ).sort(),
    ).toEqual(['http_server_request_duration_seconds_count', 'job:foo:rate5m', 'up', 'vigil_model_info']);
    expect(promqlSyntaxErrors('sum(rate(x[5m])')).not.toHaveLength(0);
    expect(promqlSyntaxErrors('sum by (le) (rate(x_bucket[5m]))')).toEqual([]);
  });

  it('every expression parses', () => {
    const broken = everyExpression()
      .map(({ where, expr }) => ({ where, errors: promqlSyntaxErrors(expr) }))
      .filter(({ errors }) => errors.length > 0);
    expect(broken).toEqual([]);
  });

  it('every metric is exported by the service, recorded by a rule, or a listed cAdvisor / node-exporter / Prometheus series', async () => {
    const exported = await exportedMetricNames();
    const recorded = new Set(loadRules().recording.map((rule) => rule.record));
    const unknown = everyExpression().flatMap(({ where, expr }) =>
      metricNamesIn(expr)
        .filter(
          (name) =>
            !exported.has(name) &&
            !recorded.has(name) &&
            !UNAVAILABLE_IN_TEST.has(name) &&
            !PROMETHEUS_SERIES.has(name),
        )
        .map((name) => `${name} (in ${where})`),
    );
    expect(unknown).toEqual([]);
  });

  it('the list of cAdvisor / node-exporter series holds only series in use (no stale exemptions)', () => {
    const used = new Set(everyExpression().flatMap(({ expr }) => metricNamesIn(expr)));
    expect([...UNAVAILABLE_IN_TEST].filter((name) => !used.has(name))).toEqual([]);
  });

  it('recording rules use level:metric:operations names and are defined once', () => {
    const names = loadRules().recording.map((rule) => rule.record);
    expect(names.filter((name) => !/^[a-z_]+:[a-z0-9_]+:[a-z0-9_]+$/.test(name))).toEqual([]);
    expect(names.filter((name, index) => names.indexOf(name) !== index)).toEqual([]);
  });
});
