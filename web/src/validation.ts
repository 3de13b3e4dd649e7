import type { FeatureSpec, FieldProblem, NumericFeature } from './types.js';

/**
 * Client-side checks that mirror the server's compiled validator (`src/prediction/domain/input-validator.ts`),
 * with the same wording, so that a person sees the same message before and after submitting. The server
 * stays the authority: its 400 `details` are shown on the same fields.
 */
export type FieldCheck =
  { ok: true; value: number | string; warning?: string } | { ok: false; problem: string };

/** As in the server's validator. */
const MAX_LISTED_CATEGORIES = 20;

/** A number as the server accepts it: a decimal literal, no hex, no blanks, finite. */
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * Checks one form value. `raw` is what the field holds; `unparsable` is true when the browser could not
 * parse what was typed into a number field (it then reports an empty value).
 */
export function checkField(feature: FeatureSpec, raw: string, unparsable = false): FieldCheck {
  const text = raw.trim();
  if (feature.type === 'categorical') {
    if (text === '') return { ok: false, problem: 'is required' };
    if (!feature.categories.includes(text))
      return { ok: false, problem: categoryProblem(feature.categories) };
    return { ok: true, value: text };
  }
  if (unparsable) return { ok: false, problem: 'must be a number' };
  if (text === '') return { ok: false, problem: 'is required' };
  if (!NUMBER.test(text)) return { ok: false, problem: 'must be a number' };
  const value = Number(text);
  if (!Number.isFinite(value)) return { ok: false, problem: 'must be a finite number' };
  if (feature.integer && !Number.isInteger(value)) return { ok: false, problem: 'must be an integer' };
  if (feature.min !== undefined && value < feature.min)
    return { ok: false, problem: `must be >= ${feature.min}` };
  if (feature.max !== undefined && value > feature.max)
    return { ok: false, problem: `must be <= ${feature.max}` };
  return value < feature.trainingMin || value > feature.trainingMax
    ? { ok: true, value, warning: `outside training range [${feature.trainingMin}, ${feature.trainingMax}]` }
    : { ok: true, value };
}

/** The server lists at most `MAX_LISTED_CATEGORIES` categories in its message. */
export function categoryProblem(categories: readonly string[]): string {
  const listed = categories.slice(0, MAX_LISTED_CATEGORIES).join(', ');
  return `must be one of: ${listed}${categories.length > MAX_LISTED_CATEGORIES ? ', …' : ''}`;
}

/** The hint under a numeric field: the training range, and the hard bounds when there are some. */
export function numericHint(feature: NumericFeature): string {
  const parts = [`Seen in training: ${feature.trainingMin} to ${feature.trainingMax}`];
  if (feature.min !== undefined && feature.max !== undefined)
    parts.push(`allowed: ${feature.min} to ${feature.max}`);
  else if (feature.min !== undefined) parts.push(`allowed: ${feature.min} or more`);
  else if (feature.max !== undefined) parts.push(`allowed: up to ${feature.max}`);
  if (feature.integer) parts.push('whole number');
  return parts.join(' · ');
}

/** Checks every feature of a form; returns the instance to send, or the problems by feature name. */
export function checkInstance(
  features: readonly FeatureSpec[],
  read: (feature: FeatureSpec) => { raw: string; unparsable?: boolean },
): { instance: Record<string, number | string>; problems: FieldProblem[]; warnings: FieldProblem[] } {
  const instance: Record<string, number | string> = {};
  const problems: FieldProblem[] = [];
  const warnings: FieldProblem[] = [];
  for (const feature of features) {
    const { raw, unparsable } = read(feature);
    const check = checkField(feature, raw, unparsable);
    if (!check.ok) {
      problems.push({ field: feature.name, problem: check.problem });
      continue;
    }
    instance[feature.name] = check.value;
    if (check.warning !== undefined) warnings.push({ field: feature.name, problem: check.warning });
  }
  return { instance, problems, warnings };
}

/** Maps the server's `instances[0].age` (or flat `age`) back to a feature name; undefined otherwise. */
export function featureOfServerField(field: string, names: readonly string[]): string | undefined {
  const name = field.replace(/^instances\[\d+\]\./, '');
  return names.includes(name) ? name : undefined;
}
