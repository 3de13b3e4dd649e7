import type { AuditEntry, FieldProblem, UiConfig } from './types.js';

/** Pure formatting: numbers, times, and API answers turned into sentences. */

export function formatNumber(value: number | null | undefined, digits = 4): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '–';
  if (value !== 0 && Math.abs(value) < 10 ** -digits) return value.toExponential(2);
  return Number(value.toFixed(digits)).toString();
}

export function formatPercent(value: number | null | undefined, digits = 1): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '–';
  return `${(value * 100).toFixed(digits)} %`;
}

/** `2026-11-23 07:41:02 UTC` from an ISO string or epoch milliseconds. */
export function formatTime(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '–';
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  return `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

export function isFieldProblems(details: unknown): details is FieldProblem[] {
  return (
    Array.isArray(details) &&
    details.every(
      (item) =>
        typeof item === 'object' &&
        item !== null &&
        typeof (item as FieldProblem).field === 'string' &&
        typeof (item as FieldProblem).problem === 'string',
    )
  );
}

/** `details` of PROMOTION_REFUSED (see docs/registry.md). */
export interface PromotionRefusal {
  metric: string;
  candidateVersion: number;
  candidate: number | null;
  productionVersion: number | null;
  production: number | null;
  difference: number | null;
  tolerance: number;
}

export function isPromotionRefusal(details: unknown): details is PromotionRefusal {
  if (typeof details !== 'object' || details === null) return false;
  const value = details as Record<string, unknown>;
  return (
    typeof value.metric === 'string' &&
    typeof value.candidateVersion === 'number' &&
    (typeof value.productionVersion === 'number' || value.productionVersion === null) &&
    typeof value.tolerance === 'number'
  );
}

/** The promotion gate's refusal in plain words, from its numbers. */
export function describePromotionRefusal(model: string, refusal: PromotionRefusal): string {
  const candidate = `version ${refusal.candidateVersion}`;
  const production =
    refusal.productionVersion === null ? 'Production' : `the Production version ${refusal.productionVersion}`;
  if (refusal.candidate === null || refusal.candidate === undefined)
    return `The promotion gate kept ${model} ${candidate} out of Production: it has no value for its primary metric ${refusal.metric}, so it cannot be compared with ${production}. Override the gate with a reason to promote it anyway.`;
  const worseBy =
    refusal.difference !== null && refusal.difference !== undefined
      ? Math.abs(refusal.difference)
      : (refusal.production ?? 0) - refusal.candidate;
  return (
    `The promotion gate kept ${model} ${candidate} out of Production: its ${refusal.metric} is ` +
    `${formatNumber(refusal.candidate)}, lower than the ${formatNumber(refusal.production)} of ${production} ` +
    `by ${formatNumber(worseBy)}, more than the ${formatNumber(refusal.tolerance)} the gate tolerates. ` +
    `Promote a better version, or override the gate with a reason (the override is audited).`
  );
}

const ACTIONS: Record<string, string> = {
  register: 'registered',
  transition: 'moved',
  rollback: 'rolled back to',
  delete_version: 'deleted',
  delete_model: 'deleted the model',
  set_alias: 'set an alias on',
  remove_alias: 'removed an alias from',
  update_model: 'updated the model',
};

/** One audit entry as a sentence: "admin:alice moved v2 from Staging to Production". */
export function describeAudit(entry: AuditEntry): string {
  const verb = ACTIONS[entry.action] ?? entry.action;
  const target = entry.version === null ? '' : ` v${entry.version}`;
  const stages =
    entry.fromStage !== null && entry.toStage !== null && entry.fromStage !== entry.toStage
      ? ` from ${entry.fromStage} to ${entry.toStage}`
      : entry.action === 'register' && entry.toStage !== null
        ? ` (stage ${entry.toStage})`
        : '';
  const alias =
    entry.details && typeof entry.details.alias === 'string' ? ` (alias ${entry.details.alias})` : '';
  const forced = entry.details && entry.details.forced === true ? ', overriding the promotion gate' : '';
  return `${entry.actor} ${verb}${target}${stages}${alias}${forced}`;
}

/** Feature names as a person reads them: `annual_income` → `Annual income`. */
export function humanize(name: string): string {
  const spaced = name.replace(/[_-]+/g, ' ').trim();
  return spaced.charAt(0).toUpperCase() + spaced.slice(1);
}

/** Metrics shown side by side on the Models page: the primary one first, then the usual ones. */
export function keyMetrics(primaryMetric: string, available: Iterable<string>): string[] {
  const present = new Set(available);
  const order = [primaryMetric, 'accuracy', 'macro_f1', 'log_loss'];
  return [...new Set(order)].filter((metric) => present.has(metric));
}

/** Lower is better for losses; higher for every other metric the registry stores. */
export function lowerIsBetter(metric: string): boolean {
  return /loss|error|brier/i.test(metric);
}

export interface Link {
  label: string;
  href: string;
  description: string;
  external: boolean;
}

const withoutTrailingSlash = (url: string): string => url.replace(/\/+$/, '');

/**
 * The Health page's links: the HTML report (same origin) and the observability tools at their
 * configured URLs, opened on what concerns this model (dashboard uid and saved search from the repo's
 * `grafana/` and `monitoring/kibana/`).
 */
export function observabilityLinks(config: UiConfig, model: string, reportUrl: string): Link[] {
  const grafana = withoutTrailingSlash(config.grafanaUrl);
  const kibana = withoutTrailingSlash(config.kibanaUrl);
  const jaeger = withoutTrailingSlash(config.jaegerUrl);
  return [
    {
      label: 'Full monitoring report (HTML)',
      href: reportUrl,
      description: 'distributions per feature, quality over time',
      external: false,
    },
    {
      label: 'Grafana: model dashboard',
      href: `${grafana}/d/vigil-model?var-model=${encodeURIComponent(model)}`,
      description: 'latency, traffic, drift and quality over time',
      external: true,
    },
    {
      label: 'Kibana: prediction logs',
      href: `${kibana}/app/discover#/view/vigil-search-one-model-version`,
      description: 'prediction events and errors, with trace ids',
      external: true,
    },
    {
      label: 'Jaeger: traces',
      href: `${jaeger}/search?service=${encodeURIComponent(config.serviceName)}`,
      description: 'where the time of a request goes',
      external: true,
    },
    {
      label: 'API reference (Swagger UI)',
      href: '/docs',
      description: 'every endpoint, with examples',
      external: false,
    },
  ];
}
