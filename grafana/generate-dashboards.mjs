#!/usr/bin/env node
// Generates the Grafana dashboards in grafana/dashboards/ (the files Grafana provisions).
//   node grafana/generate-dashboards.mjs           write the JSON files
//   node grafana/generate-dashboards.mjs --check   exit 1 if a committed file differs (CI)
// One source of truth: every panel gets the templated data source, a unit, `$__rate_interval` and
// the job / instance / model filters the same way. Metric names must come from
// src/telemetry/metrics.ts, prom-client's Node defaults, cAdvisor or node-exporter (a test checks it).
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const OUT_DIR = join(dirname(fileURLToPath(import.meta.url)), 'dashboards');
const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };
/** User traffic: Prometheus scrapes and health probes are left out of the service-level figures. */
const USER_ROUTES = 'route!~"/metrics|/health/.*"';
/** The availability SLO of prometheus/rules/vigil-slo.yml. */
const SLO_ERROR_BUDGET = 0.005;

// --- Panels -------------------------------------------------------------------------------------------

/**
 * @typedef {{ expr: string, legend?: string, instant?: boolean, format?: string }} Target
 * @typedef {{ title: string, description: string, unit: string, targets: Target[], width?: number,
 *   height?: number, min?: number, max?: number, thresholds?: Array<[number, string]>, stack?: boolean,
 *   decimals?: number }} PanelSpec
 */

function targetsOf(/** @type {Target[]} */ targets) {
  return targets.map((target, index) => ({
    refId: String.fromCharCode(65 + index),
    datasource: DATASOURCE,
    editorMode: 'code',
    expr: target.expr,
    legendFormat: target.legend ?? '__auto',
    range: !target.instant,
    instant: Boolean(target.instant),
    ...(target.format !== undefined ? { format: target.format } : {}),
  }));
}

function thresholdsOf(/** @type {PanelSpec} */ spec) {
  const steps = [{ color: 'green', value: null }];
  for (const [value, color] of spec.thresholds ?? []) steps.push({ color, value });
  return { mode: 'absolute', steps };
}

function fieldDefaults(/** @type {PanelSpec} */ spec, custom = {}) {
  return {
    unit: spec.unit,
    ...(spec.min !== undefined ? { min: spec.min } : {}),
    ...(spec.max !== undefined ? { max: spec.max } : {}),
    ...(spec.decimals !== undefined ? { decimals: spec.decimals } : {}),
    thresholds: thresholdsOf(spec),
    color: { mode: spec.thresholds ? 'thresholds' : 'palette-classic' },
    custom,
  };
}

/** @param {PanelSpec} spec */
function timeseries(spec) {
  return {
    type: 'timeseries',
    title: spec.title,
    description: spec.description,
    datasource: DATASOURCE,
    width: spec.width ?? 12,
    height: spec.height ?? 8,
    fieldConfig: {
      defaults: {
        ...fieldDefaults(spec, {
          drawStyle: 'line',
          lineWidth: 1,
          fillOpacity: spec.stack ? 60 : 10,
          showPoints: 'never',
          spanNulls: false,
          stacking: { mode: spec.stack ? 'normal' : 'none', group: 'A' },
          thresholdsStyle: { mode: spec.thresholds ? 'dashed' : 'off' },
        }),
        color: { mode: 'palette-classic' },
      },
      overrides: [],
    },
    options: {
      legend: {
        displayMode: 'table',
        placement: 'bottom',
        showLegend: true,
        calcs: ['mean', 'max', 'lastNotNull'],
      },
      tooltip: { mode: 'multi', sort: 'desc' },
    },
    targets: targetsOf(spec.targets),
  };
}

/** @param {PanelSpec} spec */
function stat(spec) {
  return {
    type: 'stat',
    title: spec.title,
    description: spec.description,
    datasource: DATASOURCE,
    width: spec.width ?? 4,
    height: spec.height ?? 4,
    fieldConfig: { defaults: fieldDefaults(spec), overrides: [] },
    options: {
      reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
      colorMode: spec.thresholds ? 'background' : 'value',
      graphMode: 'area',
      justifyMode: 'auto',
      textMode: 'auto',
    },
    targets: targetsOf(spec.targets),
  };
}

/** Bucket counts per interval of a Prometheus histogram, drawn as a heatmap. @param {PanelSpec} spec */
function heatmap(spec) {
  return {
    type: 'heatmap',
    title: spec.title,
    description: spec.description,
    datasource: DATASOURCE,
    width: spec.width ?? 12,
    height: spec.height ?? 8,
    fieldConfig: { defaults: { unit: spec.unit, custom: {} }, overrides: [] },
    options: {
      calculate: false,
      cellGap: 1,
      color: { mode: 'scheme', scheme: 'Oranges', steps: 64, exponent: 0.5, fill: 'dark-orange' },
      yAxis: { axisPlacement: 'left', unit: spec.unit },
      rowsFrame: { layout: 'auto' },
      tooltip: { show: true, yHistogram: true },
      legend: { show: true },
    },
    targets: targetsOf(spec.targets.map((target) => ({ format: 'heatmap', legend: '{{le}}', ...target }))),
  };
}

/** @param {PanelSpec} spec */
function table(spec) {
  return {
    type: 'table',
    title: spec.title,
    description: spec.description,
    datasource: DATASOURCE,
    width: spec.width ?? 12,
    height: spec.height ?? 6,
    fieldConfig: { defaults: { unit: spec.unit, custom: { align: 'auto' } }, overrides: [] },
    options: { showHeader: true, cellHeight: 'sm' },
    transformations: [
      {
        id: 'organize',
        options: { excludeByName: { Time: true, __name__: true }, renameByName: { Value: 'value' } },
      },
    ],
    targets: targetsOf(spec.targets.map((target) => ({ instant: true, format: 'table', ...target }))),
  };
}

/** A row header followed by its panels, laid out left to right, wrapping at 24 columns. */
function row(/** @type {string} */ title, /** @type {any[]} */ panels) {
  return { title, panels };
}

function layout(/** @type {{ title: string, panels: any[] }[]} */ rows) {
  const out = [];
  let id = 1;
  let y = 0;
  for (const section of rows) {
    out.push({
      type: 'row',
      title: section.title,
      id: id++,
      collapsed: false,
      panels: [],
      gridPos: { h: 1, w: 24, x: 0, y },
    });
    y += 1;
    let x = 0;
    let rowHeight = 0;
    for (const { width, height, ...panel } of section.panels) {
      if (x + width > 24) {
        x = 0;
        y += rowHeight;
        rowHeight = 0;
      }
      out.push({ id: id++, gridPos: { h: height, w: width, x, y }, ...panel });
      x += width;
      rowHeight = Math.max(rowHeight, height);
    }
    y += rowHeight;
  }
  return out;
}

// --- Variables and annotations ------------------------------------------------------------------------

const datasourceVariable = {
  name: 'datasource',
  label: 'Data source',
  type: 'datasource',
  query: 'prometheus',
  current: { selected: true, text: 'Prometheus', value: 'prometheus' },
  hide: 0,
  refresh: 1,
  regex: '',
  options: [],
};

/** A multi-value "All" variable from label_values(); "All" is the regex `.+`. */
function queryVariable(/** @type {string} */ name, /** @type {string} */ label, /** @type {string} */ query) {
  return {
    name,
    label,
    type: 'query',
    datasource: DATASOURCE,
    query: { query, refId: `${name}-variable` },
    definition: query,
    refresh: 2,
    includeAll: true,
    allValue: '.+',
    multi: true,
    current: { selected: true, text: ['All'], value: ['$__all'] },
    options: [],
    regex: '',
    sort: 1,
    hide: 0,
  };
}

function annotation(
  /** @type {{ name: string, expr: string, title: string, text: string, color: string, tags: string }} */ spec,
) {
  return {
    name: spec.name,
    datasource: DATASOURCE,
    enable: true,
    hide: false,
    iconColor: spec.color,
    // Grafana ≥ 10 reads `target`; the legacy top-level fields are kept for older versions.
    target: { refId: 'Anno', expr: spec.expr, interval: '1m' },
    expr: spec.expr,
    step: '1m',
    titleFormat: spec.title,
    textFormat: spec.text,
    tagKeys: spec.tags,
    useValueForTime: false,
  };
}

function dashboard(
  /** @type {{ uid: string, title: string, description: string, tags: string[], variables: any[], annotations?: any[], rows: any[], links?: any[] }} */ spec,
) {
  return {
    uid: spec.uid,
    title: spec.title,
    description: spec.description,
    tags: ['vigil', ...spec.tags],
    editable: false,
    graphTooltip: 1,
    timezone: 'browser',
    refresh: '30s',
    time: { from: 'now-1h', to: 'now' },
    timepicker: {},
    schemaVersion: 39,
    version: 1,
    fiscalYearStartMonth: 0,
    liveNow: false,
    weekStart: '',
    links: [
      {
        title: 'Vigil dashboards',
        type: 'dashboards',
        tags: ['vigil'],
        asDropdown: true,
        includeVars: true,
        keepTime: true,
      },
      ...(spec.links ?? []),
    ],
    templating: { list: [datasourceVariable, ...spec.variables] },
    annotations: {
      list: [
        {
          builtIn: 1,
          datasource: { type: 'grafana', uid: '-- Grafana --' },
          enable: true,
          hide: true,
          iconColor: 'rgba(0, 211, 255, 1)',
          name: 'Annotations & Alerts',
          type: 'dashboard',
        },
        ...(spec.annotations ?? []),
      ],
    },
    panels: layout(spec.rows),
  };
}

// --- Service ------------------------------------------------------------------------------------------

const S = 'job=~"$job",instance=~"$instance"';
const httpCount = (extra = '') => `http_server_request_duration_seconds_count{${S}${extra}}`;
const httpBucket = (extra = '') => `http_server_request_duration_seconds_bucket{${S}${extra}}`;

const service = dashboard({
  uid: 'vigil-service',
  title: 'Vigil / Service',
  description: 'The API at a glance: traffic, errors, latency and saturation, by route and instance.',
  tags: ['service'],
  variables: [
    queryVariable('job', 'Job', 'label_values(http_server_request_duration_seconds_count, job)'),
    queryVariable(
      'instance',
      'Instance',
      'label_values(http_server_request_duration_seconds_count{job=~"$job"}, instance)',
    ),
  ],
  annotations: [
    annotation({
      name: 'Model version changes',
      expr: 'sum by (model) (changes(vigil_model_swaps_total{job=~"$job"}[2m])) > 0',
      title: 'Hot swap: {{model}}',
      text: 'The Production version of {{model}} changed',
      color: 'purple',
      tags: 'model',
    }),
  ],
  rows: [
    row('Golden signals (user traffic: /metrics and health probes excluded)', [
      stat({
        title: 'Request rate',
        description: 'Requests per second to the API, all user routes.',
        unit: 'reqps',
        targets: [{ expr: `sum(rate(${httpCount(`,${USER_ROUTES}`)}[$__rate_interval]))` }],
      }),
      stat({
        title: '5xx ratio',
        description: 'Share of user requests answered with a 5xx. The alert fires above 5 % for 5 minutes.',
        unit: 'percentunit',
        decimals: 2,
        thresholds: [
          [0.01, 'orange'],
          [0.05, 'red'],
        ],
        targets: [
          {
            expr:
              `(sum(rate(${httpCount(`,${USER_ROUTES},status_code=~"5.."`)}[$__rate_interval])) or vector(0))\n` +
              `/ sum(rate(${httpCount(`,${USER_ROUTES}`)}[$__rate_interval]))`,
          },
        ],
      }),
      stat({
        title: 'p95 latency',
        description:
          '95th percentile of the server-side request duration. The alert fires above 1 s for 5 minutes.',
        unit: 's',
        thresholds: [
          [0.25, 'orange'],
          [1, 'red'],
        ],
        targets: [
          {
            expr: `histogram_quantile(0.95, sum by (le) (rate(${httpBucket(`,${USER_ROUTES}`)}[$__rate_interval])))`,
          },
        ],
      }),
      stat({
        title: 'Error budget burn rate (1 h)',
        description:
          'How fast the 99.5 % availability SLO budget burns: 1 = exactly on budget over 30 days; the page fires at 14.4 (1 h) and 6 (6 h).',
        unit: 'none',
        decimals: 1,
        thresholds: [
          [1, 'orange'],
          [6, 'red'],
        ],
        targets: [
          { expr: `max(job:slo_availability_errors:ratio_rate1h{job=~"$job"}) / ${SLO_ERROR_BUDGET}` },
        ],
      }),
      stat({
        title: 'Instances up',
        description: 'API replicas Prometheus scrapes successfully, of those it discovered.',
        unit: 'none',
        targets: [{ expr: 'sum(up{job=~"$job",instance=~"$instance"})', legend: 'up' }],
      }),
      stat({
        title: 'Active requests',
        description: 'Requests being served right now, all instances.',
        unit: 'none',
        targets: [{ expr: `sum(http_server_active_requests{${S}})` }],
      }),
    ]),
    row('Traffic and errors by route', [
      timeseries({
        title: 'Requests by route',
        description: 'Requests per second per route template (unmatched = 404 on an unknown path).',
        unit: 'reqps',
        stack: true,
        targets: [{ expr: `sum by (route) (rate(${httpCount()}[$__rate_interval]))`, legend: '{{route}}' }],
      }),
      timeseries({
        title: 'Responses by status code',
        description: 'Responses per second per HTTP status code, user routes.',
        unit: 'reqps',
        stack: true,
        targets: [
          {
            expr: `sum by (status_code) (rate(${httpCount(`,${USER_ROUTES}`)}[$__rate_interval]))`,
            legend: '{{status_code}}',
          },
        ],
      }),
      timeseries({
        title: '5xx ratio by route',
        description:
          'Share of requests of each route answered with a 5xx (0 when a route has traffic but no error).',
        unit: 'percentunit',
        min: 0,
        thresholds: [[0.05, 'red']],
        targets: [
          {
            expr:
              `(sum by (route) (rate(${httpCount(',status_code=~"5.."')}[$__rate_interval]))\n` +
              `  or sum by (route) (rate(${httpCount()}[$__rate_interval])) * 0)\n` +
              `/ sum by (route) (rate(${httpCount()}[$__rate_interval]))`,
            legend: '{{route}}',
          },
        ],
      }),
      timeseries({
        title: '4xx ratio by route',
        description:
          "Share of requests refused as the client's fault (400 invalid input, 404, 413): a client or contract problem, not an outage.",
        unit: 'percentunit',
        min: 0,
        targets: [
          {
            expr:
              `(sum by (route) (rate(${httpCount(',status_code=~"4.."')}[$__rate_interval]))\n` +
              `  or sum by (route) (rate(${httpCount()}[$__rate_interval])) * 0)\n` +
              `/ sum by (route) (rate(${httpCount()}[$__rate_interval]))`,
            legend: '{{route}}',
          },
        ],
      }),
    ]),
    row('Latency', [
      timeseries({
        title: 'Latency p50 / p95 / p99 (user routes)',
        description: 'Server-side request duration quantiles, interpolated inside histogram buckets.',
        unit: 's',
        thresholds: [[1, 'red']],
        targets: [0.5, 0.95, 0.99].map((quantile) => ({
          expr: `histogram_quantile(${quantile}, sum by (le) (rate(${httpBucket(`,${USER_ROUTES}`)}[$__rate_interval])))`,
          legend: `p${Math.round(quantile * 100)}`,
        })),
      }),
      heatmap({
        title: 'Latency distribution (user routes)',
        description:
          'Requests per latency bucket over time: a second band means a second population (e.g. large batches).',
        unit: 's',
        targets: [{ expr: `sum by (le) (increase(${httpBucket(`,${USER_ROUTES}`)}[$__rate_interval]))` }],
      }),
      timeseries({
        title: 'p95 latency by route',
        description: '95th percentile per route template.',
        unit: 's',
        targets: [
          {
            expr: `histogram_quantile(0.95, sum by (route, le) (rate(${httpBucket()}[$__rate_interval])))`,
            legend: '{{route}}',
          },
        ],
      }),
      timeseries({
        title: 'p99 latency by route',
        description: '99th percentile per route template.',
        unit: 's',
        targets: [
          {
            expr: `histogram_quantile(0.99, sum by (route, le) (rate(${httpBucket()}[$__rate_interval])))`,
            legend: '{{route}}',
          },
        ],
      }),
    ]),
    row('Saturation (per instance)', [
      timeseries({
        title: 'Active requests',
        description:
          'In-flight requests per instance: grows when the event loop or the inference queue cannot keep up.',
        unit: 'short',
        width: 8,
        targets: [{ expr: `sum by (instance) (http_server_active_requests{${S}})`, legend: '{{instance}}' }],
      }),
      timeseries({
        title: 'Event-loop lag p99',
        description:
          'How late timers fire: inference and JSON run on the event loop, so lag is queueing for CPU.',
        unit: 's',
        width: 8,
        thresholds: [[0.1, 'red']],
        targets: [
          { expr: `max by (instance) (nodejs_eventloop_lag_p99_seconds{${S}})`, legend: '{{instance}}' },
        ],
      }),
      timeseries({
        title: 'CPU',
        description:
          'CPU seconds per second used by each API process (1 = one full core; Node serves on one).',
        unit: 'percentunit',
        width: 8,
        targets: [
          {
            expr: `sum by (instance) (rate(process_cpu_seconds_total{${S}}[$__rate_interval]))`,
            legend: '{{instance}}',
          },
        ],
      }),
      timeseries({
        title: 'Memory',
        description: 'Resident set size and V8 heap in use per process.',
        unit: 'bytes',
        width: 8,
        targets: [
          { expr: `sum by (instance) (process_resident_memory_bytes{${S}})`, legend: 'RSS {{instance}}' },
          { expr: `sum by (instance) (nodejs_heap_size_used_bytes{${S}})`, legend: 'heap used {{instance}}' },
        ],
      }),
      timeseries({
        title: 'Time in garbage collection',
        description: 'Share of wall time spent in GC pauses, by GC kind: young-generation pauses drive p99.',
        unit: 'percentunit',
        width: 8,
        targets: [
          {
            expr: `sum by (instance, kind) (rate(nodejs_gc_duration_seconds_sum{${S}}[$__rate_interval]))`,
            legend: '{{kind}} {{instance}}',
          },
        ],
      }),
      timeseries({
        title: 'Inference queue wait p95',
        description: 'How long requests wait for their micro-batch to start, all models.',
        unit: 's',
        width: 8,
        targets: [
          {
            expr: `histogram_quantile(0.95, sum by (instance, le) (rate(vigil_inference_queue_wait_seconds_bucket{${S}}[$__rate_interval])))`,
            legend: '{{instance}}',
          },
        ],
      }),
    ]),
    row('Telemetry pipeline (fails soft: counted, never in the way of a prediction)', [
      timeseries({
        title: 'Log events shipped and dropped',
        description:
          'Log events per second accepted by Elasticsearch, and lost by sink and reason (the alert fires on sustained drops).',
        unit: 'short',
        width: 8,
        targets: [
          { expr: `sum(rate(vigil_log_events_shipped_total{${S}}[$__rate_interval]))`, legend: 'shipped' },
          {
            expr: `sum by (sink, reason) (rate(vigil_log_events_dropped_total{${S}}[$__rate_interval]))`,
            legend: 'dropped {{sink}} {{reason}}',
          },
        ],
      }),
      timeseries({
        title: 'Log queue',
        description: 'Log events waiting to be shipped to Elasticsearch (bounded; full means drops).',
        unit: 'short',
        width: 8,
        targets: [{ expr: `sum by (instance) (vigil_log_queue_events{${S}})`, legend: '{{instance}}' }],
      }),
      timeseries({
        title: 'Trace export failures',
        description: 'Span batches the OTLP exporter could not deliver, per second.',
        unit: 'short',
        width: 8,
        targets: [
          {
            expr: `sum by (instance) (rate(vigil_trace_export_failures_total{${S}}[$__rate_interval]))`,
            legend: '{{instance}}',
          },
        ],
      }),
      timeseries({
        title: 'Prediction store',
        description:
          'Predictions written to the store per second, and not stored by reason (drift and quality then see a sample).',
        unit: 'short',
        width: 12,
        targets: [
          {
            expr:
              `label_replace(sum(rate(vigil_prediction_store_written_total{${S}}[$__rate_interval])), "outcome", "written", "", "")\n` +
              `or label_replace(sum by (reason) (rate(vigil_prediction_store_dropped_total{${S}}[$__rate_interval])), "outcome", "dropped: $1", "reason", "(.*)")`,
            legend: '{{outcome}}',
          },
        ],
      }),
      timeseries({
        title: 'Prediction store queue',
        description: 'Predictions waiting to be written in a batch.',
        unit: 'short',
        width: 12,
        targets: [
          { expr: `sum by (instance) (vigil_prediction_store_queue_rows{${S}})`, legend: '{{instance}}' },
        ],
      }),
    ]),
  ],
});

// --- Model --------------------------------------------------------------------------------------------

const M = 'job=~"$job",instance=~"$instance",model=~"$model"';
const MODEL_ONLY = 'job=~"$job",model=~"$model"';

const model = dashboard({
  uid: 'vigil-model',
  title: 'Vigil / Model',
  description:
    'What the model predicts, how fast, on which version, and whether it still works: drift and live quality.',
  tags: ['model'],
  variables: [
    queryVariable('job', 'Job', 'label_values(vigil_model_info, job)'),
    queryVariable('instance', 'Instance', 'label_values(vigil_model_info{job=~"$job"}, instance)'),
    queryVariable('model', 'Model', 'label_values(vigil_model_info{job=~"$job"}, model)'),
    queryVariable(
      'drift_method',
      'Drift method',
      'label_values(vigil_drift_score{job=~"$job",model=~"$model"}, method)',
    ),
  ],
  annotations: [
    annotation({
      name: 'New version served',
      expr:
        `count by (model, version, stage) (vigil_model_info{${MODEL_ONLY}})\n` +
        `unless count by (model, version, stage) (vigil_model_info{${MODEL_ONLY}} offset 2m)`,
      title: '{{model}} v{{version}} ({{stage}}) loaded',
      text: 'A new version of {{model}} started serving',
      color: 'purple',
      tags: 'model,version',
    }),
    annotation({
      name: 'Hot swaps',
      expr: `sum by (model) (changes(vigil_model_swaps_total{${MODEL_ONLY}}[2m])) > 0`,
      title: 'Hot swap: {{model}}',
      text: 'The Production version of {{model}} changed',
      color: 'blue',
      tags: 'model',
    }),
    annotation({
      name: 'Retraining',
      expr: `sum by (model, trigger, outcome) (changes(vigil_retrains_total{${MODEL_ONLY}}[2m])) > 0`,
      title: 'Retrain {{model}}: {{outcome}}',
      text: 'Triggered by {{trigger}}',
      color: 'orange',
      tags: 'model,trigger,outcome',
    }),
  ],
  rows: [
    row('Versions', [
      table({
        title: 'Served versions',
        description: 'Every model version loaded in each instance, with its stage and artifact digest.',
        unit: 'none',
        width: 24,
        height: 5,
        targets: [{ expr: `max by (model, version, stage, sha256, instance) (vigil_model_info{${M}})` }],
      }),
    ]),
    row('Predictions', [
      timeseries({
        title: 'Predictions by label',
        description:
          'Predictions per second by predicted class: a change of mix is the first visible sign of drift.',
        unit: 'ops',
        stack: true,
        width: 8,
        targets: [
          {
            expr: `sum by (model, label) (rate(vigil_predictions_total{${M}}[$__rate_interval]))`,
            legend: '{{model}} {{label}}',
          },
        ],
      }),
      timeseries({
        title: 'Label share',
        description: 'Share of each predicted class among the predictions of its model.',
        unit: 'percentunit',
        stack: true,
        min: 0,
        max: 1,
        width: 8,
        targets: [
          {
            expr:
              `sum by (model, label) (rate(vigil_predictions_total{${M}}[$__rate_interval]))\n` +
              `/ on (model) group_left sum by (model) (rate(vigil_predictions_total{${M}}[$__rate_interval]))`,
            legend: '{{model}} {{label}}',
          },
        ],
      }),
      timeseries({
        title: 'Inputs refused and out of training range',
        description:
          'Requests refused with 400 INVALID_INPUT, and accepted values outside the training range by feature (monitored, not refused).',
        unit: 'short',
        width: 8,
        targets: [
          {
            expr: `sum by (model) (rate(vigil_invalid_inputs_total{${M}}[$__rate_interval]))`,
            legend: 'invalid {{model}}',
          },
          {
            expr: `sum by (model, feature) (rate(vigil_input_out_of_training_range_total{${M}}[$__rate_interval]))`,
            legend: 'out of range {{model}}.{{feature}}',
          },
        ],
      }),
      heatmap({
        title: 'Score distribution over time (binary models)',
        description:
          'Predictions per bucket of P(positive class): a shifted or flattened band means the inputs or the model changed.',
        unit: 'percentunit',
        targets: [{ expr: `sum by (le) (increase(vigil_prediction_score_bucket{${M}}[$__rate_interval]))` }],
      }),
      timeseries({
        title: 'Score quantiles (binary models)',
        description: 'p10 / p50 / p90 of P(positive class) per model.',
        unit: 'percentunit',
        min: 0,
        max: 1,
        targets: [0.1, 0.5, 0.9].map((quantile) => ({
          expr: `histogram_quantile(${quantile}, sum by (model, le) (rate(vigil_prediction_score_bucket{${M}}[$__rate_interval])))`,
          legend: `{{model}} p${Math.round(quantile * 100)}`,
        })),
      }),
    ]),
    row('Inference', [
      timeseries({
        title: 'Inference time p50 / p95 / p99',
        description: 'Duration of one ONNX Runtime call (a whole micro-batch), per model.',
        unit: 's',
        width: 8,
        targets: [0.5, 0.95, 0.99].map((quantile) => ({
          expr: `histogram_quantile(${quantile}, sum by (model, le) (rate(vigil_inference_duration_seconds_bucket{${M}}[$__rate_interval])))`,
          legend: `{{model}} p${Math.round(quantile * 100)}`,
        })),
      }),
      timeseries({
        title: 'Batch size',
        description:
          'Rows per ONNX Runtime call: mean and p95. Near 1 at low load; grows with concurrency (micro-batching).',
        unit: 'short',
        width: 8,
        targets: [
          {
            expr:
              `sum by (model) (rate(vigil_inference_batch_size_rows_sum{${M}}[$__rate_interval]))\n` +
              `/ sum by (model) (rate(vigil_inference_batch_size_rows_count{${M}}[$__rate_interval]))`,
            legend: '{{model}} mean',
          },
          {
            expr: `histogram_quantile(0.95, sum by (model, le) (rate(vigil_inference_batch_size_rows_bucket{${M}}[$__rate_interval])))`,
            legend: '{{model}} p95',
          },
        ],
      }),
      timeseries({
        title: 'Queue wait p95',
        description: 'Time a request waits before its micro-batch runs.',
        unit: 's',
        width: 8,
        targets: [
          {
            expr: `histogram_quantile(0.95, sum by (model, le) (rate(vigil_inference_queue_wait_seconds_bucket{${M}}[$__rate_interval])))`,
            legend: '{{model}}',
          },
        ],
      }),
      timeseries({
        title: 'Queue depth against capacity',
        description: 'Rows waiting for inference, and the capacity beyond which requests get 503 OVERLOADED.',
        unit: 'short',
        targets: [
          {
            expr: `sum by (model, version) (vigil_inference_queue_depth_rows{${M}})`,
            legend: '{{model}} v{{version}} depth',
          },
          {
            expr: `max by (model, version) (vigil_inference_queue_capacity_rows{${M}})`,
            legend: '{{model}} v{{version}} capacity',
          },
        ],
      }),
      timeseries({
        title: 'Requests refused before inference',
        description: 'Per second, by reason: overloaded (queue full, 503), not_ready, shutting_down.',
        unit: 'reqps',
        targets: [
          {
            expr: `sum by (model, reason) (rate(vigil_inference_rejected_total{${M}}[$__rate_interval]))`,
            legend: '{{model}} {{reason}}',
          },
        ],
      }),
    ]),
    row('Drift (current window against the training reference)', [
      timeseries({
        title: 'Drift score per feature',
        description:
          'The statistic of the selected method per feature (KS / chi-square: p-value, drift when ≤ 0.05; Wasserstein (normed), Jensen-Shannon: drift when ≥ 0.1; PSI: 0.1 moderate, 0.2 significant).',
        unit: 'none',
        targets: [
          {
            expr: `max by (model, feature, method) (vigil_drift_score{${MODEL_ONLY},method=~"$drift_method"})`,
            legend: '{{model}}.{{feature}} ({{method}})',
          },
        ],
      }),
      timeseries({
        title: 'Drifted features',
        description: '1 when a feature drifted under its default test.',
        unit: 'bool_yes_no',
        stack: true,
        targets: [
          {
            expr: `max by (model, feature) (vigil_feature_drift_detected{${MODEL_ONLY}})`,
            legend: '{{model}}.{{feature}}',
          },
        ],
      }),
      timeseries({
        title: 'Dataset drift share',
        description:
          'Share of features that drifted; dataset drift (and its alert) when it reaches the threshold (0.5 by default).',
        unit: 'percentunit',
        min: 0,
        max: 1,
        thresholds: [[0.5, 'red']],
        targets: [
          {
            expr: `max by (model, version) (vigil_dataset_drift_share_ratio{${MODEL_ONLY}})`,
            legend: '{{model}} v{{version}}',
          },
        ],
      }),
      stat({
        title: 'Dataset drift',
        description: 'Whether the dataset-drift threshold is reached now, per model version.',
        unit: 'bool_yes_no',
        width: 12,
        thresholds: [[1, 'red']],
        targets: [
          {
            expr: `max by (model, version) (vigil_dataset_drift_detected{${MODEL_ONLY}})`,
            legend: '{{model}} v{{version}}',
          },
        ],
      }),
    ]),
    row('Live quality (predictions joined with feedback)', [
      timeseries({
        title: 'Live quality against training',
        description:
          'Live metrics on the current window (solid) beside the same metrics on the test set at training time. The alert fires under 90 % of the training figure.',
        unit: 'percentunit',
        min: 0,
        max: 1,
        targets: [
          {
            expr: `max by (model, metric) (vigil_live_quality{${MODEL_ONLY}})`,
            legend: '{{model}} {{metric}}',
          },
          {
            expr: `max by (model, metric) (vigil_training_quality{${MODEL_ONLY}})`,
            legend: '{{model}} {{metric}} (training)',
          },
        ],
      }),
      timeseries({
        title: 'Feedback received',
        description:
          'Ground-truth labels per second: live quality is only as good as the feedback it is computed on.',
        unit: 'short',
        width: 6,
        targets: [
          {
            expr: `sum by (model) (rate(vigil_feedback_total{${M}}[$__rate_interval]))`,
            legend: '{{model}}',
          },
        ],
      }),
      timeseries({
        title: 'Evaluations',
        description: 'Monitoring evaluations per second by outcome.',
        unit: 'short',
        width: 6,
        targets: [
          {
            expr: `sum by (model, outcome) (rate(vigil_evaluations_total{${M}}[$__rate_interval]))`,
            legend: '{{model}} {{outcome}}',
          },
        ],
      }),
      stat({
        title: 'Time since last evaluation',
        description:
          'Age of the newest drift and quality figures; stale if much older than the evaluation interval.',
        unit: 's',
        width: 12,
        thresholds: [[900, 'red']],
        targets: [
          {
            expr: `time() - max by (model) (vigil_last_evaluation_timestamp_seconds{${M}})`,
            legend: '{{model}}',
          },
        ],
      }),
    ]),
  ],
});

// --- Containers ---------------------------------------------------------------------------------------

const C = 'job=~"$job",instance=~"$instance",name=~"$container"';
const N = 'instance=~"$node"';

const containers = dashboard({
  uid: 'vigil-containers',
  title: 'Vigil / Containers',
  description:
    'Every container of the stack (cAdvisor) against its limits, the host (node-exporter), and the API processes.',
  tags: ['containers'],
  variables: [
    queryVariable('job', 'cAdvisor job', 'label_values(container_cpu_usage_seconds_total, job)'),
    queryVariable(
      'instance',
      'cAdvisor instance',
      'label_values(container_cpu_usage_seconds_total{job=~"$job"}, instance)',
    ),
    queryVariable(
      'container',
      'Container',
      'label_values(container_memory_working_set_bytes{job=~"$job",name!=""}, name)',
    ),
    queryVariable('node', 'Host', 'label_values(node_uname_info, instance)'),
    queryVariable('api_job', 'API job', 'label_values(nodejs_heap_size_used_bytes, job)'),
  ],
  rows: [
    row('CPU', [
      timeseries({
        title: 'CPU used per container',
        description: 'Cores used by each container.',
        unit: 'short',
        targets: [
          {
            expr: `sum by (name) (rate(container_cpu_usage_seconds_total{${C}}[$__rate_interval]))`,
            legend: '{{name}}',
          },
        ],
      }),
      timeseries({
        title: 'CPU against limit',
        description:
          'Share of its CPU limit each limited container uses; throttled near 100 %. The alert fires above 80 % for 5 minutes.',
        unit: 'percentunit',
        min: 0,
        thresholds: [[0.8, 'red']],
        targets: [
          {
            expr:
              `sum by (name) (rate(container_cpu_usage_seconds_total{${C}}[$__rate_interval]))\n` +
              `/ on (name) (max by (name) (container_spec_cpu_quota{${C}} > 0) / on (name) max by (name) (container_spec_cpu_period{${C}}))`,
            legend: '{{name}}',
          },
        ],
      }),
      timeseries({
        title: 'CPU throttling',
        description: 'Share of scheduling periods in which the container was throttled by its CPU limit.',
        unit: 'percentunit',
        targets: [
          {
            expr:
              `sum by (name) (rate(container_cpu_cfs_throttled_periods_total{${C}}[$__rate_interval]))\n` +
              `/ sum by (name) (rate(container_cpu_cfs_periods_total{${C}}[$__rate_interval]))`,
            legend: '{{name}}',
          },
        ],
      }),
    ]),
    row('Memory', [
      timeseries({
        title: 'Memory working set against limit',
        description:
          'Working set (what the OOM killer counts) of each container, and its limit when it has one.',
        unit: 'bytes',
        targets: [
          { expr: `max by (name) (container_memory_working_set_bytes{${C}})`, legend: '{{name}}' },
          { expr: `max by (name) (container_spec_memory_limit_bytes{${C}} > 0)`, legend: '{{name}} limit' },
        ],
      }),
      timeseries({
        title: 'Memory against limit',
        description:
          'Share of its memory limit each limited container uses. The alert fires above 90 % for 5 minutes.',
        unit: 'percentunit',
        min: 0,
        thresholds: [[0.9, 'red']],
        targets: [
          {
            expr:
              `max by (name) (container_memory_working_set_bytes{${C}})\n` +
              `/ on (name) (max by (name) (container_spec_memory_limit_bytes{${C}}) > 0)`,
            legend: '{{name}}',
          },
        ],
      }),
    ]),
    row('Network', [
      timeseries({
        title: 'Network received',
        description: 'Bytes per second received per container.',
        unit: 'Bps',
        targets: [
          {
            expr: `sum by (name) (rate(container_network_receive_bytes_total{${C}}[$__rate_interval]))`,
            legend: '{{name}}',
          },
        ],
      }),
      timeseries({
        title: 'Network sent',
        description: 'Bytes per second sent per container.',
        unit: 'Bps',
        targets: [
          {
            expr: `sum by (name) (rate(container_network_transmit_bytes_total{${C}}[$__rate_interval]))`,
            legend: '{{name}}',
          },
        ],
      }),
    ]),
    row('Host (node-exporter)', [
      timeseries({
        title: 'Host CPU busy',
        description: 'Share of host CPU time not idle, all cores.',
        unit: 'percentunit',
        width: 8,
        min: 0,
        max: 1,
        targets: [
          {
            expr: `1 - avg by (instance) (rate(node_cpu_seconds_total{${N},mode="idle"}[$__rate_interval]))`,
            legend: '{{instance}}',
          },
        ],
      }),
      timeseries({
        title: 'Host memory available',
        description: 'Share of host memory available to new processes.',
        unit: 'percentunit',
        width: 8,
        min: 0,
        max: 1,
        targets: [
          {
            expr: `node_memory_MemAvailable_bytes{${N}} / node_memory_MemTotal_bytes{${N}}`,
            legend: '{{instance}}',
          },
        ],
      }),
      timeseries({
        title: 'Host filesystem free',
        description:
          'Share of each real filesystem still free (Elasticsearch stops writing at its disk watermarks).',
        unit: 'percentunit',
        width: 8,
        min: 0,
        max: 1,
        targets: [
          {
            expr:
              `node_filesystem_avail_bytes{${N},fstype!~"tmpfs|overlay|squashfs"}\n` +
              `/ node_filesystem_size_bytes{${N},fstype!~"tmpfs|overlay|squashfs"}`,
            legend: '{{instance}} {{mountpoint}}',
          },
        ],
      }),
    ]),
    row('API processes (as the service sees itself)', [
      timeseries({
        title: 'API process CPU',
        description: "CPU seconds per second of each API process (matches the api container's CPU above).",
        unit: 'percentunit',
        targets: [
          {
            expr: 'sum by (instance) (rate(process_cpu_seconds_total{job=~"$api_job"}[$__rate_interval]))',
            legend: '{{instance}}',
          },
        ],
      }),
      timeseries({
        title: 'API process memory',
        description:
          "Resident set size of each API process (compare with the api container's working set and limit).",
        unit: 'bytes',
        targets: [
          {
            expr: 'sum by (instance) (process_resident_memory_bytes{job=~"$api_job"})',
            legend: '{{instance}}',
          },
        ],
      }),
    ]),
  ],
});

// --- Output -------------------------------------------------------------------------------------------

const files = {
  'vigil-service.json': service,
  'vigil-model.json': model,
  'vigil-containers.json': containers,
};
const check = process.argv.includes('--check');
let stale = 0;
for (const [name, content] of Object.entries(files)) {
  const path = join(OUT_DIR, name);
  const text = `${JSON.stringify(content, null, 2)}\n`;
  if (check) {
    let current = '';
    try {
      current = readFileSync(path, 'utf8');
    } catch {
      // missing counts as stale
    }
    if (current !== text) {
      stale += 1;
      process.stderr.write(`${path} is not what grafana/generate-dashboards.mjs generates; run it.\n`);
    }
  } else {
    writeFileSync(path, text);
  }
}
process.exit(stale > 0 ? 1 : 0);
