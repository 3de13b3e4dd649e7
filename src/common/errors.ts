/**
 * Stable error codes, independent of HTTP. Services throw `AppError`s; `HttpErrorFilter` maps the
 * code to a status, and the CLI prints the same codes.
 */
export const ERROR_CODES = {
  INVALID_INPUT: 400,
  INVALID_ARTIFACT: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  MODEL_NOT_FOUND: 404,
  VERSION_NOT_FOUND: 404,
  RUN_NOT_FOUND: 404,
  PREDICTION_NOT_FOUND: 404,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PROMOTION_REFUSED: 409,
  PAYLOAD_TOO_LARGE: 413,
  /** A trained model missed the minimum test metric of its dataset spec. */
  QUALITY_GATE_FAILED: 422,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  MODEL_NOT_READY: 503,
  OVERLOADED: 503,
  SHUTTING_DOWN: 503,
  DEPENDENCY_UNAVAILABLE: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** One problem with one field of the input: `{ field: "instances[0].age", problem: "must be >= 18" }`. */
export interface FieldProblem {
  field: string;
  problem: string;
}

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
    /** Seconds, for OVERLOADED / RATE_LIMITED / MODEL_NOT_READY. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'AppError';
  }

  get status(): number {
    return ERROR_CODES[this.code];
  }
}

export class InvalidInputError extends AppError {
  constructor(
    readonly problems: FieldProblem[],
    message = `Invalid input: ${problems.length} problem(s)`,
  ) {
    super('INVALID_INPUT', message, problems);
  }
}

export class ModelNotFoundError extends AppError {
  constructor(name: string) {
    super('MODEL_NOT_FOUND', `Model "${name}" is not registered`);
  }
}

export class VersionNotFoundError extends AppError {
  constructor(name: string, version: number | string) {
    super('VERSION_NOT_FOUND', `Model "${name}" has no version ${String(version)}`);
  }
}

export class ModelNotReadyError extends AppError {
  constructor(name: string, reason = 'is not loaded yet') {
    super('MODEL_NOT_READY', `Model "${name}" ${reason}`, undefined, 1);
  }
}

export class OverloadedError extends AppError {
  constructor(what: string) {
    super('OVERLOADED', `${what} is at capacity; retry shortly`, undefined, 1);
  }
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}
