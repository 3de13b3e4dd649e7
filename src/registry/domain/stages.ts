import type { Stage } from './model-version';

/**
 * Allowed stage transitions. Archived versions can come back (rollback, re-promotion); a version
 * leaves Production only by being archived or sent back to Staging.
 */
const ALLOWED: Record<Stage, readonly Stage[]> = {
  None: ['Staging', 'Production', 'Archived'],
  Staging: ['None', 'Production', 'Archived'],
  Production: ['Staging', 'Archived'],
  Archived: ['Staging', 'Production'],
};

/** `null` when allowed, else why not. */
export function transitionProblem(from: Stage, to: Stage): string | null {
  if (from === to) return `is already in stage ${to}`;
  if (!ALLOWED[from].includes(to))
    return `cannot go from ${from} to ${to} (allowed: ${ALLOWED[from].join(', ')})`;
  return null;
}

const ALIAS = /^[a-z][a-z0-9_-]{0,62}$/;
/** Alias names share the URL space with version numbers, so they must not look like one. */
export function aliasProblem(alias: string): string | null {
  return ALIAS.test(alias)
    ? null
    : `alias "${alias}" must start with a lowercase letter and contain only a-z, 0-9, "_" and "-" (max 63)`;
}

const MODEL_NAME = /^[a-z0-9][a-z0-9_.-]{0,99}$/i;
export function modelNameProblem(name: string): string | null {
  return MODEL_NAME.test(name)
    ? null
    : `model name "${name}" must be 1-100 characters of letters, digits, ".", "_" or "-"`;
}
