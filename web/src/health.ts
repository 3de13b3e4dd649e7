import { api } from './api.js';
import { errorBox, loading, notice, table } from './components.js';
import { h, replaceChildren } from './dom.js';
import { formatNumber, formatPercent, formatTime, observabilityLinks } from './format.js';
import type { PageContext } from './state.js';
import type { FeatureDrift, MonitoringReport } from './types.js';

/** Health: drift and live quality of the served version, the latest scheduled evaluation, and links. */
export async function renderHealth(context: PageContext): Promise<void> {
  const { root, state } = context;
  const model = state.model;
  const links = observabilityLinks(state.config, model, api.reportHtmlUrl(model));
  const linkList = h(
    'nav',
    { class: 'links card', 'aria-labelledby': 'links-heading' },
    h('h2', { id: 'links-heading' }, 'Go deeper'),
    h(
      'ul',
      {},
      links.map((link) =>
        h(
          'li',
          {},
          h(
            'a',
            {
              href: link.href,
              target: link.external ? '_blank' : undefined,
              rel: link.external ? 'noopener noreferrer' : undefined,
            },
            link.label,
          ),
          h('span', { class: 'muted' }, ` — ${link.description}`),
        ),
      ),
    ),
  );
  replaceChildren(
    root,
    h('h1', { tabindex: -1 }, 'Health'),
    h('p', { class: 'lead' }, `Is ${model} still seeing the data it was trained on, and is it still right?`),
    loading(`the monitoring report of ${model}`),
  );
  let report: MonitoringReport;
  try {
    report = await api.report(model);
  } catch (error) {
    if (!context.current()) return;
    root.lastElementChild?.remove();
    root.append(errorBox(error, `No monitoring report for ${model}`), linkList);
    return;
  }
  if (!context.current()) return;
  root.lastElementChild?.remove();
  root.append(...reportSections(report), linkList);
}

function reportSections(report: MonitoringReport): HTMLElement[] {
  const { evaluation } = report;
  const window = evaluation.window;
  // No feature could be tested (no reference profile, or every feature excluded): nothing to say about drift.
  const drift = evaluation.drift !== null && evaluation.drift.features.length > 0 ? evaluation.drift : null;
  const untested =
    evaluation.drift !== null && evaluation.drift.features.length === 0
      ? 'No feature could be tested (see below).'
      : 'Too few predictions in the window for a meaningful test.';
  const summary = h(
    'section',
    { class: 'cards', 'aria-label': 'Summary' },
    card(
      'Served version',
      `${report.model} v${report.version}`,
      `${report.stage} · report at ${formatTime(report.generatedAt)}`,
    ),
    card(
      'Monitoring window',
      `${window.size} predictions`,
      `${window.labelled} with feedback · ${formatTime(window.from)} → ${formatTime(window.to)}`,
    ),
    drift === null
      ? card('Data drift', 'Not computed', untested, 'neutral')
      : card(
          'Data drift',
          drift.datasetDrift ? 'Dataset drift detected' : 'No dataset drift',
          `${drift.driftedCount} of ${drift.features.length} features drifted (${formatPercent(drift.driftShare)}; alarm at ${formatPercent(drift.shareThreshold)})`,
          drift.datasetDrift ? 'bad' : 'good',
        ),
    evaluation.quality === null
      ? card(
          'Live quality',
          'No feedback yet',
          'Send true labels (Predict page or POST /v1/feedback) to measure it.',
          'neutral',
        )
      : card(
          'Live quality',
          qualityHeadline(report),
          `on ${evaluation.quality.rows} predictions with feedback`,
        ),
  );

  const sections: HTMLElement[] = [summary];
  const qualityRows = qualityTable(report);
  sections.push(
    h(
      'section',
      { 'aria-labelledby': 'quality-heading' },
      h('h2', { id: 'quality-heading' }, 'Quality: training vs live'),
      qualityRows ?? notice('info', 'No metric to compare yet.'),
    ),
  );

  const predictionDrift = [evaluation.predictionDrift.label, evaluation.predictionDrift.score].filter(
    (item): item is FeatureDrift => item !== null,
  );
  sections.push(
    h(
      'section',
      { 'aria-labelledby': 'drift-heading' },
      h('h2', { id: 'drift-heading' }, 'Drift per feature'),
      drift === null
        ? notice(
            'info',
            evaluation.drift === null
              ? `Drift is computed once the window holds enough predictions (it holds ${window.size}).`
              : 'No feature could be tested.',
          )
        : table(
            'Drift per feature, drifted first',
            ['Feature', 'Test', 'Score', 'Threshold', 'Drifted', 'PSI'],
            [...drift.features, ...predictionDrift]
              .sort((a, b) => Number(b.drifted) - Number(a.drifted))
              .map((feature) => [
                feature.feature,
                feature.method,
                formatNumber(feature.score),
                formatNumber(feature.threshold),
                h(
                  'span',
                  { class: feature.drifted ? 'flag flag-bad' : 'flag flag-good' },
                  feature.drifted ? 'yes' : 'no',
                ),
                `${formatNumber(feature.psi, 3)} (${feature.psiLevel})`,
              ]),
          ),
      evaluation.skippedFeatures.length > 0
        ? h(
            'p',
            { class: 'muted' },
            `Not tested: ${evaluation.skippedFeatures.map((item) => `${item.feature} (${item.reason.replace(/_/g, ' ')})`).join(', ')}.`,
          )
        : null,
    ),
  );

  const latest = report.history.at(-1);
  sections.push(
    h(
      'section',
      { 'aria-labelledby': 'latest-heading' },
      h('h2', { id: 'latest-heading' }, 'Latest scheduled evaluation'),
      latest === undefined
        ? notice('info', 'No scheduled evaluation stored yet (they run every EVALUATION_INTERVAL_MS).')
        : h(
            'dl',
            { class: 'facts' },
            h('dt', {}, 'When'),
            h('dd', {}, formatTime(latest.evaluatedAt)),
            h('dt', {}, 'Version'),
            h('dd', {}, `v${latest.version}`),
            h('dt', {}, 'Drift share'),
            h(
              'dd',
              {},
              latest.driftShare === null
                ? 'not computed'
                : `${formatPercent(latest.driftShare)}${latest.datasetDrift ? ' (dataset drift)' : ''}`,
            ),
            h('dt', {}, 'Live quality'),
            h(
              'dd',
              {},
              latest.quality === null
                ? 'no feedback then'
                : Object.entries(latest.quality)
                    .filter(([, value]) => value !== null)
                    .map(([metric, value]) => `${metric} ${formatNumber(value)}`)
                    .join(' · '),
            ),
            h('dt', {}, 'Evaluations stored'),
            h('dd', {}, String(report.history.length)),
          ),
    ),
  );
  return sections;
}

function card(
  title: string,
  value: string,
  detail: string,
  tone: 'good' | 'bad' | 'neutral' = 'neutral',
): HTMLElement {
  return h(
    'div',
    { class: `card summary tone-${tone}` },
    h('h2', {}, title),
    h('p', { class: 'value' }, value),
    h('p', { class: 'muted' }, detail),
  );
}

function qualityHeadline(report: MonitoringReport): string {
  const metrics = report.evaluation.quality?.metrics ?? {};
  const preferred = ['roc_auc', 'macro_f1', 'accuracy'].find(
    (metric) => metrics[metric] !== null && metrics[metric] !== undefined,
  );
  return preferred === undefined ? 'Measured' : `${preferred} ${formatNumber(metrics[preferred])}`;
}

function qualityTable(report: MonitoringReport): HTMLElement | null {
  const training = report.evaluation.trainingQuality;
  const live = report.evaluation.quality?.metrics ?? {};
  const metrics = [...new Set([...Object.keys(live), ...Object.keys(training)])].filter(
    (metric) => metric !== 'rows',
  );
  if (metrics.length === 0) return null;
  return table(
    'Quality metrics at training time and on live feedback',
    ['Metric', 'Training (test set)', 'Live', 'Difference'],
    metrics.map((metric) => {
      const trained = training[metric];
      const now = live[metric];
      const difference = trained !== undefined && now !== null && now !== undefined ? now - trained : null;
      return [
        metric,
        formatNumber(trained),
        formatNumber(now),
        difference === null ? '–' : `${difference >= 0 ? '+' : ''}${formatNumber(difference)}`,
      ];
    }),
  );
}
