import {
  describeAudit,
  describePromotionRefusal,
  formatNumber,
  formatTime,
  humanize,
  isPromotionRefusal,
  keyMetrics,
  lowerIsBetter,
  observabilityLinks,
} from './format';
import type { AuditEntry } from './types';

const entry = (overrides: Partial<AuditEntry>): AuditEntry => ({
  id: 1,
  at: '2026-11-23T07:41:02.001Z',
  actor: 'admin:alice',
  action: 'transition',
  model: 'credit',
  version: 2,
  fromStage: 'Staging',
  toStage: 'Production',
  reason: null,
  details: null,
  ...overrides,
});

describe('promotion refusal in words', () => {
  const refusal = {
    metric: 'roc_auc',
    candidateVersion: 3,
    candidate: 0.812,
    productionVersion: 2,
    production: 0.861,
    difference: -0.049,
    tolerance: 0.01,
  };

  it('states the metric, both values, the gap and the tolerance', () => {
    expect(isPromotionRefusal(refusal)).toBe(true);
    expect(describePromotionRefusal('credit', refusal)).toBe(
      'The promotion gate kept credit version 3 out of Production: its roc_auc is 0.812, lower than the 0.861 of ' +
        'the Production version 2 by 0.049, more than the 0.01 the gate tolerates. Promote a better version, or ' +
        'override the gate with a reason (the override is audited).',
    );
  });

  it('explains a candidate without the metric', () => {
    expect(
      describePromotionRefusal('credit', {
        ...refusal,
        candidate: null,
        difference: null,
        productionVersion: null,
      }),
    ).toBe(
      'The promotion gate kept credit version 3 out of Production: it has no value for its primary metric roc_auc, ' +
        'so it cannot be compared with Production. Override the gate with a reason to promote it anyway.',
    );
  });

  it('recognises only the gate details', () => {
    expect(isPromotionRefusal([{ field: 'stage', problem: 'x' }])).toBe(false);
    expect(isPromotionRefusal(null)).toBe(false);
    expect(isPromotionRefusal({ ...refusal, tolerance: '0.01' })).toBe(false);
  });
});

describe('audit sentences', () => {
  it.each([
    [entry({}), 'admin:alice moved v2 from Staging to Production'],
    [
      entry({ details: { forced: true } }),
      'admin:alice moved v2 from Staging to Production, overriding the promotion gate',
    ],
    [
      entry({ action: 'register', fromStage: null, toStage: 'None' }),
      'admin:alice registered v2 (stage None)',
    ],
    [
      entry({ action: 'set_alias', fromStage: null, toStage: null, details: { alias: 'champion' } }),
      'admin:alice set an alias on v2 (alias champion)',
    ],
    [
      entry({ action: 'rollback', fromStage: 'Archived', toStage: 'Production', version: 1 }),
      'admin:alice rolled back to v1 from Archived to Production',
    ],
  ])('%#', (audit, sentence) => {
    expect(describeAudit(audit)).toBe(sentence);
  });
});

describe('numbers, names and metrics', () => {
  it.each([
    [0.8200617071850207, '0.8201'],
    [0, '0'],
    [4.5e-7, '4.50e-7'],
    [null, '–'],
    [Number.NaN, '–'],
  ])('formatNumber(%p) = %s', (value, text) => {
    expect(formatNumber(value)).toBe(text);
  });

  it('formats times in UTC', () => {
    expect(formatTime('2026-11-23T07:41:02.001Z')).toBe('2026-11-23 07:41:02 UTC');
    expect(formatTime(Date.UTC(2026, 10, 23, 7, 41, 2))).toBe('2026-11-23 07:41:02 UTC');
    expect(formatTime(null)).toBe('–');
  });

  it('humanizes feature names', () => {
    expect(humanize('annual_income')).toBe('Annual income');
    expect(humanize('self_employed')).toBe('Self employed');
  });

  it('puts the primary metric first and knows losses', () => {
    expect(keyMetrics('macro_f1', ['accuracy', 'log_loss', 'macro_f1', 'roc_auc'])).toEqual([
      'macro_f1',
      'accuracy',
      'log_loss',
    ]);
    expect(lowerIsBetter('log_loss')).toBe(true);
    expect(lowerIsBetter('roc_auc')).toBe(false);
  });
});

describe('observability links', () => {
  it('opens each tool on this model at its configured URL', () => {
    const links = observabilityLinks(
      {
        grafanaUrl: 'https://grafana.example.com/',
        kibanaUrl: 'http://kibana:5601',
        jaegerUrl: 'http://jaeger:16686',
        serviceName: 'vigil api',
        defaultModel: 'iris',
      },
      'credit',
      '/v1/models/credit/report',
    );
    expect(links.map((link) => link.href)).toEqual([
      '/v1/models/credit/report',
      'https://grafana.example.com/d/vigil-model?var-model=credit',
      'http://kibana:5601/app/discover#/view/vigil-search-one-model-version',
      'http://jaeger:16686/search?service=vigil%20api',
      '/docs',
    ]);
  });
});
