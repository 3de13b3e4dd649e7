import type { FeatureDrift } from './drift';
import type { Evaluation } from './evaluation';
import { type MonitoringReport, distributionChart, escapeHtml, renderReportHtml, timeChart } from './report';

function makeFeature(overrides: Partial<FeatureDrift> = {}): FeatureDrift {
  return {
    feature: 'income',
    kind: 'numeric',
    method: 'wasserstein',
    score: 0.42,
    threshold: 0.1,
    drifted: true,
    psi: 0.3,
    psiLevel: 'significant',
    referenceSize: 100,
    currentSize: 50,
    distribution: {
      buckets: [
        { label: '0–10', low: 0, high: 10, reference: 0.5, current: 0.2 },
        { label: '10–20', low: 10, high: 20, reference: 0.5, current: 0.8 },
      ],
    },
    ...overrides,
  };
}

function makeReport(overrides: Partial<Evaluation> = {}): MonitoringReport {
  const evaluation: Evaluation = {
    model: 'credit',
    version: 3,
    evaluatedAt: Date.UTC(2026, 0, 1),
    window: { size: 50, labelled: 4, from: Date.UTC(2025, 11, 31), to: Date.UTC(2026, 0, 1) },
    drift: {
      features: [
        makeFeature(),
        makeFeature({
          feature: '<housing>',
          kind: 'categorical',
          method: 'jensenshannon',
          drifted: false,
          score: 0.01,
        }),
      ],
      driftedCount: 1,
      driftShare: 0.5,
      shareThreshold: 0.5,
      datasetDrift: true,
    },
    skippedFeatures: [{ feature: 'name', reason: 'excluded_by_privacy' }],
    predictionDrift: { label: null, score: makeFeature({ feature: 'score' }) },
    quality: {
      rows: 4,
      metrics: {
        accuracy: 0.75,
        balanced_accuracy: 0.7,
        macro_f1: 0.7,
        precision: 0.5,
        recall: 1,
        roc_auc: 0.9,
      },
      confusionMatrix: {
        labels: ['0', '1'],
        matrix: [
          [2, 1],
          [0, 1],
        ],
      },
    },
    trainingQuality: { accuracy: 0.8, roc_auc: 0.82 },
    ...overrides,
  };
  return {
    model: 'credit',
    version: 3,
    stage: 'Production',
    generatedAt: '2026-01-01T00:00:00.000Z',
    referenceRows: 12000,
    evaluation,
    history: [
      {
        evaluatedAt: 1,
        version: 3,
        driftShare: 0.1,
        datasetDrift: false,
        quality: { accuracy: 0.8, roc_auc: null },
      },
      {
        evaluatedAt: 2,
        version: 3,
        driftShare: 0.5,
        datasetDrift: true,
        quality: { accuracy: 0.7, roc_auc: null },
      },
    ],
  };
}

describe('renderReportHtml', () => {
  const html = renderReportHtml(makeReport());

  it('is one self-contained document: no script, stylesheet link or remote asset', () => {
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).not.toMatch(/<script|<link|<img|src=|url\(/i);
  });

  it('has the drift table with method, score, threshold and verdict', () => {
    expect(html).toContain('Wasserstein distance (normed)');
    expect(html).toContain('<td class="num">0.42</td><td class="num">≥ 0.1</td>');
    expect(html).toContain('badge drift');
    expect(html).toContain('name (excluded by privacy)');
  });

  it('escapes feature names', () => {
    expect(html).toContain('&lt;housing&gt;');
    expect(html).not.toContain('<housing>');
  });

  it('draws distributions, the confusion matrix and quality over time', () => {
    expect(html.match(/<svg/g)?.length).toBeGreaterThanOrEqual(5);
    expect(html).toContain('actual \\ predicted');
    expect(html).toContain('<path d="M');
  });

  it('says why drift is missing for a small window, and asks for feedback', () => {
    const small = renderReportHtml(makeReport({ drift: null, quality: null }));
    expect(small).toContain('too few to test drift');
    expect(small).toContain('POST /v1/feedback');
  });
});

describe('chart helpers', () => {
  it('scales bars to the largest share', () => {
    const svg = distributionChart({ buckets: [{ label: 'a', reference: 1, current: 0.5 }] }, 't');
    expect(svg).toContain('height="120.0"');
    expect(svg).toContain('height="60.0"');
  });

  it('says when there is no history', () => {
    expect(timeChart([], 't')).toContain('No scheduled evaluation yet');
  });

  it('escapes HTML', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });
});
