import type { DistributionComparison, FeatureDrift } from './drift';
import { DRIFT_METHODS } from './drift';
import type { Evaluation } from './evaluation';

/** `GET /v1/models/{name}/report?format=json`, and what the HTML is rendered from. */
export interface MonitoringReport {
  model: string;
  version: number;
  stage: string;
  generatedAt: string;
  referenceRows: number;
  evaluation: Evaluation;
  /** Scheduled evaluations, oldest first (quality and drift over time). */
  history: {
    evaluatedAt: number;
    version: number;
    driftShare: number | null;
    datasetDrift: boolean;
    quality: Record<string, number | null> | null;
  }[];
}

const COLORS = { reference: '#4c78a8', current: '#f58518', drift: '#c0392b', ok: '#27ae60', grid: '#ddd' };
const SERIES_COLORS = ['#4c78a8', '#f58518', '#54a24b', '#b279a2', '#e45756', '#72b7b2'];

export function escapeHtml(value: unknown): string {
  return String(value)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

function formatNumber(value: number | null | undefined, digits = 4): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '–';
  if (value !== 0 && Math.abs(value) < 10 ** -digits) return value.toExponential(2);
  return Number(value.toFixed(digits)).toString();
}

function formatTime(epochMs: number | null): string {
  return epochMs === null
    ? '–'
    : new Date(epochMs)
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, 'Z');
}

/** Grouped bars: reference vs current share per bucket. */
export function distributionChart(distribution: DistributionComparison, title: string): string {
  const buckets = distribution.buckets;
  const width = 560;
  const height = 180;
  const left = 40;
  const bottom = 40;
  const plotWidth = width - left - 10;
  const plotHeight = height - bottom - 20;
  const max = Math.max(0.0001, ...buckets.flatMap((bucket) => [bucket.reference, bucket.current]));
  const slot = plotWidth / Math.max(1, buckets.length);
  const bar = Math.max(1, slot / 2 - 1);
  const bars = buckets
    .map((bucket, index) => {
      const x = left + index * slot;
      const referenceHeight = (bucket.reference / max) * plotHeight;
      const currentHeight = (bucket.current / max) * plotHeight;
      const label =
        buckets.length <= 12 || index % Math.ceil(buckets.length / 12) === 0
          ? `<text x="${(x + slot / 2).toFixed(1)}" y="${height - bottom + 12}" font-size="9" text-anchor="end" transform="rotate(-35 ${(x + slot / 2).toFixed(1)} ${height - bottom + 12})">${escapeHtml(bucket.label)}</text>`
          : '';
      return (
        `<rect x="${x.toFixed(1)}" y="${(20 + plotHeight - referenceHeight).toFixed(1)}" width="${bar.toFixed(1)}" height="${referenceHeight.toFixed(1)}" fill="${COLORS.reference}"><title>${escapeHtml(bucket.label)} reference ${formatNumber(bucket.reference, 3)}</title></rect>` +
        `<rect x="${(x + bar).toFixed(1)}" y="${(20 + plotHeight - currentHeight).toFixed(1)}" width="${bar.toFixed(1)}" height="${currentHeight.toFixed(1)}" fill="${COLORS.current}"><title>${escapeHtml(bucket.label)} current ${formatNumber(bucket.current, 3)}</title></rect>` +
        label
      );
    })
    .join('');
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" role="img" aria-label="${escapeHtml(title)}">` +
    `<line x1="${left}" y1="${20 + plotHeight}" x2="${width - 10}" y2="${20 + plotHeight}" stroke="#999"/>` +
    `<text x="${left - 4}" y="24" font-size="9" text-anchor="end">${formatNumber(max, 2)}</text>` +
    `<text x="${left - 4}" y="${20 + plotHeight}" font-size="9" text-anchor="end">0</text>` +
    bars +
    `</svg>`
  );
}

/** Lines over time; each series is [epochMs, value | null][]. */
export function timeChart(
  series: { name: string; points: [number, number | null][] }[],
  title: string,
): string {
  const width = 560;
  const height = 200;
  const left = 40;
  const top = 20;
  const plotWidth = width - left - 120;
  const plotHeight = height - top - 30;
  const times = series.flatMap((entry) => entry.points.map(([time]) => time));
  if (times.length === 0) return '<p class="muted">No scheduled evaluation yet.</p>';
  const minTime = Math.min(...times);
  const maxTime = Math.max(...times);
  const span = Math.max(1, maxTime - minTime);
  const x = (time: number): number => left + ((time - minTime) / span) * plotWidth;
  const y = (value: number): number => top + (1 - Math.min(1, Math.max(0, value))) * plotHeight;
  const grid = [0, 0.25, 0.5, 0.75, 1]
    .map(
      (level) =>
        `<line x1="${left}" y1="${y(level)}" x2="${left + plotWidth}" y2="${y(level)}" stroke="${COLORS.grid}"/><text x="${left - 4}" y="${y(level) + 3}" font-size="9" text-anchor="end">${level}</text>`,
    )
    .join('');
  const lines = series
    .map((entry, index) => {
      const color = SERIES_COLORS[index % SERIES_COLORS.length]!;
      const points = entry.points.filter((point): point is [number, number] => point[1] !== null);
      const path = points
        .map(([time, value], at) => `${at === 0 ? 'M' : 'L'}${x(time).toFixed(1)},${y(value).toFixed(1)}`)
        .join(' ');
      const dots = points
        .map(
          ([time, value]) =>
            `<circle cx="${x(time).toFixed(1)}" cy="${y(value).toFixed(1)}" r="2" fill="${color}"><title>${escapeHtml(entry.name)} ${formatNumber(value, 3)} at ${formatTime(time)}</title></circle>`,
        )
        .join('');
      return (
        `<path d="${path}" fill="none" stroke="${color}" stroke-width="1.5"/>${dots}` +
        `<text x="${left + plotWidth + 8}" y="${top + 12 + index * 14}" font-size="10" fill="${color}">${escapeHtml(entry.name)}</text>`
      );
    })
    .join('');
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" role="img" aria-label="${escapeHtml(title)}">` +
    grid +
    lines +
    `<text x="${left}" y="${height - 8}" font-size="9">${escapeHtml(formatTime(minTime))}</text>` +
    `<text x="${left + plotWidth}" y="${height - 8}" font-size="9" text-anchor="end">${escapeHtml(formatTime(maxTime))}</text>` +
    `</svg>`
  );
}

function verdict(drifted: boolean): string {
  return drifted ? `<span class="badge drift">drift</span>` : `<span class="badge ok">no drift</span>`;
}

function driftRow(feature: FeatureDrift): string {
  const method = DRIFT_METHODS[feature.method];
  const comparison = method.kind === 'p_value' ? (feature.method === 'ks' ? '≤' : '<') : '≥';
  return (
    `<tr><td><a href="#feature-${escapeHtml(feature.feature)}">${escapeHtml(feature.feature)}</a></td><td>${feature.kind}</td>` +
    `<td>${escapeHtml(method.label)}</td><td class="num">${formatNumber(feature.score)}</td>` +
    `<td class="num">${comparison} ${feature.threshold}</td><td>${verdict(feature.drifted)}</td>` +
    `<td class="num">${formatNumber(feature.psi)} <span class="muted">${feature.psiLevel}</span></td></tr>`
  );
}

function confusionMatrixTable(labels: readonly string[], matrix: readonly (readonly number[])[]): string {
  const max = Math.max(1, ...matrix.flat());
  const header = `<tr><th>actual \\ predicted</th>${labels.map((label) => `<th>${escapeHtml(label)}</th>`).join('')}</tr>`;
  const rows = matrix
    .map(
      (row, rowIndex) =>
        `<tr><th>${escapeHtml(labels[rowIndex])}</th>${row
          .map((count, columnIndex) => {
            const alpha = (count / max) * 0.8;
            const color =
              rowIndex === columnIndex
                ? `rgba(39,174,96,${alpha.toFixed(2)})`
                : `rgba(192,57,43,${alpha.toFixed(2)})`;
            return `<td class="num" style="background:${color}">${count}</td>`;
          })
          .join('')}</tr>`,
    )
    .join('');
  return `<table class="matrix">${header}${rows}</table>`;
}

const STYLE = `
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#222;max-width:1100px}
h1{font-size:22px;margin-bottom:4px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #ddd;padding-bottom:4px}
h3{font-size:15px;margin:18px 0 4px}table{border-collapse:collapse;margin:8px 0}
th,td{border:1px solid #ddd;padding:4px 8px;font-size:13px;text-align:left}td.num{text-align:right;font-variant-numeric:tabular-nums}
.muted{color:#777;font-size:12px}.badge{padding:1px 6px;border-radius:8px;font-size:12px;color:#fff}
.badge.drift{background:${COLORS.drift}}.badge.ok{background:${COLORS.ok}}
.summary{display:flex;gap:16px;flex-wrap:wrap}.card{border:1px solid #ddd;border-radius:6px;padding:8px 12px;min-width:160px}
.card b{font-size:20px;display:block}.legend span{display:inline-block;width:10px;height:10px;margin:0 4px 0 12px}
.features{display:grid;grid-template-columns:repeat(auto-fill,minmax(560px,1fr));gap:8px}
`;

/** The self-contained HTML report: inline CSS and SVG, no script, no external asset. */
export function renderReportHtml(report: MonitoringReport): string {
  const { evaluation } = report;
  const drift = evaluation.drift;
  const quality = evaluation.quality;
  const legend = `<p class="legend"><span style="background:${COLORS.reference}"></span>reference (training)<span style="background:${COLORS.current}"></span>current window</p>`;
  const cards = [
    `<div class="card">Window<b>${evaluation.window.size}</b><span class="muted">${escapeHtml(formatTime(evaluation.window.from))} → ${escapeHtml(formatTime(evaluation.window.to))}</span></div>`,
    `<div class="card">Dataset drift<b>${drift ? (drift.datasetDrift ? 'yes' : 'no') : 'n/a'}</b><span class="muted">${
      drift
        ? `${drift.driftedCount} of ${drift.features.length} features (${formatNumber(drift.driftShare * 100, 1)} %, threshold ${formatNumber(drift.shareThreshold * 100, 1)} %)`
        : 'window too small'
    }</span></div>`,
    `<div class="card">Labelled<b>${evaluation.window.labelled}</b><span class="muted">predictions with feedback</span></div>`,
  ].join('');
  const qualityMetrics = quality ? Object.entries(quality.metrics) : [];
  const qualityTable = quality
    ? `<table><tr><th>metric</th><th>live (window)</th><th>training (test split)</th></tr>${qualityMetrics
        .map(
          ([metric, value]) =>
            `<tr><td>${escapeHtml(metric)}</td><td class="num">${formatNumber(value)}</td><td class="num">${formatNumber(
              evaluation.trainingQuality[metric],
            )}</td></tr>`,
        )
        .join(
          '',
        )}</table>${confusionMatrixTable(quality.confusionMatrix.labels, quality.confusionMatrix.matrix)}`
    : '<p class="muted">No feedback in the window yet: send true labels to POST /v1/feedback.</p>';
  const featureSections = (drift?.features ?? [])
    .map(
      (feature) =>
        `<div id="feature-${escapeHtml(feature.feature)}"><h3>${escapeHtml(feature.feature)} ${verdict(feature.drifted)}</h3>` +
        `<p class="muted">${escapeHtml(DRIFT_METHODS[feature.method].label)} = ${formatNumber(feature.score)} (threshold ${feature.threshold}); PSI ${formatNumber(feature.psi)}; reference n=${feature.referenceSize}, current n=${feature.currentSize}</p>` +
        distributionChart(feature.distribution, feature.feature) +
        `</div>`,
    )
    .join('');
  const predictionSections = [evaluation.predictionDrift.score, evaluation.predictionDrift.label]
    .filter((feature): feature is FeatureDrift => feature !== null)
    .map(
      (feature) =>
        `<h3>${feature.feature === 'score' ? 'Score (P(positive class))' : 'Predicted label'} ${verdict(feature.drifted)}</h3>` +
        `<p class="muted">${escapeHtml(DRIFT_METHODS[feature.method].label)} = ${formatNumber(feature.score)} (threshold ${feature.threshold}); PSI ${formatNumber(feature.psi)}</p>` +
        distributionChart(feature.distribution, feature.feature),
    )
    .join('');
  const metricNames = [
    ...new Set(report.history.flatMap((point) => Object.keys(point.quality ?? {}))),
  ].filter((metric) =>
    report.history.some((point) => point.quality?.[metric] !== null && point.quality?.[metric] !== undefined),
  );
  const qualityOverTime = timeChart(
    metricNames.map((metric) => ({
      name: metric,
      points: report.history.map((point): [number, number | null] => [
        point.evaluatedAt,
        point.quality?.[metric] ?? null,
      ]),
    })),
    'Quality over time',
  );
  const driftOverTime = timeChart(
    [
      {
        name: 'drift share',
        points: report.history.map((point): [number, number | null] => [point.evaluatedAt, point.driftShare]),
      },
    ],
    'Drift share over time',
  );
  const skipped =
    evaluation.skippedFeatures.length > 0
      ? `<p class="muted">Not tested: ${evaluation.skippedFeatures.map((entry) => `${escapeHtml(entry.feature)} (${entry.reason.replace(/_/g, ' ')})`).join(', ')}</p>`
      : '';
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Vigil report: ${escapeHtml(report.model)} v${report.version}</title>
<style>${STYLE}</style></head><body>
<h1>${escapeHtml(report.model)} v${report.version} <span class="muted">${escapeHtml(report.stage)}</span></h1>
<p class="muted">Generated ${escapeHtml(report.generatedAt)} · reference: ${report.referenceRows} training rows · methods: Evidently defaults</p>
<div class="summary">${cards}</div>
<h2>Data drift</h2>
${drift ? `<table><tr><th>feature</th><th>type</th><th>method</th><th>score</th><th>threshold</th><th>verdict</th><th>PSI</th></tr>${drift.features.map(driftRow).join('')}</table>` : `<p class="muted">The window has ${evaluation.window.size} predictions: too few to test drift.</p>`}
${skipped}
${legend}
<div class="features">${featureSections}</div>
<h2>Predictions</h2>
${predictionSections || '<p class="muted">No prediction drift computed.</p>'}
<h2>Live quality</h2>
${qualityTable}
<h2>Over time</h2>
<h3>Quality</h3>${qualityOverTime}
<h3>Drift share</h3>${driftOverTime}
</body></html>
`;
}
