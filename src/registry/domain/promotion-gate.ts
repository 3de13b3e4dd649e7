export interface PromotionGateInput {
  /** The candidate's signature `primaryMetric` (higher is better). */
  primaryMetric: string;
  candidateVersion: number;
  candidateMetrics: Record<string, number>;
  /** `null` when the model has no Production version yet. */
  production: { version: number; metrics: Record<string, number> } | null;
  tolerance: number;
}

export type PromotionGateResult =
  | { allowed: true; reason: string }
  | {
      allowed: false;
      reason: string;
      details: {
        metric: string;
        candidateVersion: number;
        candidate: number | null;
        productionVersion: number | null;
        production: number | null;
        difference: number | null;
        tolerance: number;
      };
    };

const FLOAT_SLACK = 1e-12;
const show = (value: number): string => String(Number(value.toFixed(6)));

/**
 * The promotion gate: a candidate may not be worse than the current Production version on the primary
 * metric by more than `tolerance`. The refusal states the numbers.
 */
export function evaluatePromotionGate(input: PromotionGateInput): PromotionGateResult {
  const { primaryMetric: metric, candidateVersion, production, tolerance } = input;
  const candidate = input.candidateMetrics[metric];
  if (candidate === undefined || !Number.isFinite(candidate)) {
    return {
      allowed: false,
      reason: `candidate v${candidateVersion} has no value for its primary metric "${metric}"`,
      details: {
        metric,
        candidateVersion,
        candidate: null,
        productionVersion: production?.version ?? null,
        production: production?.metrics[metric] ?? null,
        difference: null,
        tolerance,
      },
    };
  }
  if (!production) return { allowed: true, reason: 'no current Production version' };
  const current = production.metrics[metric];
  if (current === undefined || !Number.isFinite(current))
    return { allowed: true, reason: `Production v${production.version} has no "${metric}" to compare` };
  const difference = candidate - current;
  // 0.84 - 0.85 is -0.010000000000000009 in floating point: "exactly the tolerance" must pass.
  if (difference >= -tolerance - FLOAT_SLACK)
    return {
      allowed: true,
      reason: `${metric} ${show(candidate)} vs Production v${production.version} ${show(current)} (difference ${show(difference)}, tolerance ${show(tolerance)})`,
    };
  return {
    allowed: false,
    reason:
      `${metric} of v${candidateVersion} is ${show(candidate)}, worse than Production v${production.version}'s ` +
      `${show(current)} by ${show(-difference)} (tolerance ${show(tolerance)})`,
    details: {
      metric,
      candidateVersion,
      candidate,
      productionVersion: production.version,
      production: current,
      difference,
      tolerance,
    },
  };
}
