import { evaluatePromotionGate, type PromotionGateInput } from './promotion-gate';

const input = (
  candidate: number | undefined,
  production: number | undefined | null,
  tolerance = 0.01,
): PromotionGateInput => ({
  primaryMetric: 'roc_auc',
  candidateVersion: 3,
  candidateMetrics: candidate === undefined ? { accuracy: 0.9 } : { roc_auc: candidate },
  production:
    production === null
      ? null
      : { version: 2, metrics: production === undefined ? {} : { roc_auc: production } },
  tolerance,
});

describe('evaluatePromotionGate', () => {
  it.each([
    ['better', 0.9, 0.85, true],
    ['equal', 0.85, 0.85, true],
    ['worse within tolerance', 0.845, 0.85, true],
    ['worse exactly by the tolerance', 0.84, 0.85, true],
    ['worse beyond the tolerance', 0.83, 0.85, false],
    ['first Production version', 0.5, null, true],
    ['Production without the metric', 0.5, undefined, true],
    ['candidate without the metric', undefined, 0.85, false],
  ])('%s → allowed=%s', (_, candidate, production, allowed) => {
    expect(evaluatePromotionGate(input(candidate, production)).allowed).toBe(allowed);
  });

  it('states the numbers when it refuses', () => {
    const result = evaluatePromotionGate(input(0.8, 0.861, 0.01));
    expect(result.allowed).toBe(false);
    expect(result.reason).toBe(
      "roc_auc of v3 is 0.8, worse than Production v2's 0.861 by 0.061 (tolerance 0.01)",
    );
    if (!result.allowed)
      expect(result.details).toEqual({
        metric: 'roc_auc',
        candidateVersion: 3,
        candidate: 0.8,
        productionVersion: 2,
        production: 0.861,
        difference: expect.closeTo(-0.061, 10),
        tolerance: 0.01,
      });
  });

  it('with zero tolerance refuses any regression', () => {
    expect(evaluatePromotionGate(input(0.8499, 0.85, 0)).allowed).toBe(false);
  });
});
