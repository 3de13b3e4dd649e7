import type { FieldProblem } from '../../common/errors';

/**
 * Vigil's errors in the bodies each protocol's clients parse: the Open Inference Protocol's
 * `{"error": "..."}` and MLflow's `{"error_code": "...", "message": "..."}`. The input is the shape of
 * an `AppError` or of Vigil's error envelope (for errors raised before a handler ran).
 */
export interface ErrorLike {
  code: string;
  message: string;
  details?: unknown;
}

export interface OpenInferenceErrorBody {
  error: string;
}

/** MLflow's `databricks_pb2.ErrorCode` names its scoring server and REST API answer with. */
export type MlflowErrorCode =
  | 'BAD_REQUEST'
  | 'INVALID_PARAMETER_VALUE'
  | 'RESOURCE_DOES_NOT_EXIST'
  | 'REQUEST_LIMIT_EXCEEDED'
  | 'TEMPORARILY_UNAVAILABLE'
  | 'INTERNAL_ERROR';

export interface MlflowErrorBody {
  error_code: MlflowErrorCode;
  message: string;
}

const ROW_FIELD = /^instances\[(\d+)\]\.(.+)$/;

/** The prediction validator names fields `instances[3].age`; each protocol has its own words for that. */
export type RowFieldStyle = 'tensor' | 'dataframe';

export function renameRowField(field: string, style: RowFieldStyle): string {
  const match = ROW_FIELD.exec(field);
  if (match === null) return field;
  const [, row, feature] = match;
  return style === 'tensor' ? `${feature}[${row}]` : `${feature} (row ${row})`;
}

/** One line naming every problem: `Invalid input: age[3]: must be >= 18; housing[0]: must be one of …`. */
export function errorText(error: ErrorLike, style: RowFieldStyle): string {
  if (error.code !== 'INVALID_INPUT' || !isProblemList(error.details) || error.details.length === 0) {
    return error.message;
  }
  // A problem with the whole body is a sentence of its own (MLflow's wording).
  const only = error.details.length === 1 ? error.details[0]! : undefined;
  if (only?.field === 'body') return only.problem;
  const listed = error.details.map(
    (problem) => `${renameRowField(problem.field, style)}: ${problem.problem}`,
  );
  return `Invalid input: ${listed.join('; ')}`;
}

export function openInferenceError(error: ErrorLike): OpenInferenceErrorBody {
  return { error: errorText(error, 'tensor') };
}

/**
 * `requestFormat`: the body itself is malformed (not one of MLflow's input formats, bad CSV, bad JSON):
 * MLflow answers BAD_REQUEST there, and INVALID_PARAMETER_VALUE when values do not fit the model.
 */
export function mlflowErrorCode(status: number, code: string, requestFormat: boolean): MlflowErrorCode {
  if (status === 400)
    return code === 'INVALID_INPUT' && !requestFormat ? 'INVALID_PARAMETER_VALUE' : 'BAD_REQUEST';
  if (status === 404) return 'RESOURCE_DOES_NOT_EXIST';
  if (status === 413 || status === 429) return 'REQUEST_LIMIT_EXCEEDED';
  if (status === 503) return 'TEMPORARILY_UNAVAILABLE';
  return status < 500 ? 'BAD_REQUEST' : 'INTERNAL_ERROR';
}

export function mlflowError(error: ErrorLike, status: number, requestFormat: boolean): MlflowErrorBody {
  return {
    error_code: mlflowErrorCode(status, error.code, requestFormat),
    message: errorText(error, 'dataframe'),
  };
}

/** MLflow's own wording for a content type it does not read. */
export function unsupportedContentTypeMessage(contentType: string | undefined): string {
  return `This predictor only supports the following content types: application/json, text/csv. Got '${contentType ?? ''}'.`;
}

/** Vigil's error envelope, as serialized by `HttpErrorFilter` or the drain guard; undefined otherwise. */
export function parseEnvelope(payload: string): ErrorLike | undefined {
  if (!payload.startsWith('{"code":')) return undefined;
  try {
    const parsed = JSON.parse(payload) as Record<string, unknown>;
    if (typeof parsed.code !== 'string' || typeof parsed.message !== 'string') return undefined;
    return { code: parsed.code, message: parsed.message, details: parsed.details };
  } catch {
    return undefined;
  }
}

function isProblemList(details: unknown): details is FieldProblem[] {
  return (
    Array.isArray(details) &&
    details.every(
      (item: unknown) =>
        typeof item === 'object' &&
        item !== null &&
        typeof (item as FieldProblem).field === 'string' &&
        typeof (item as FieldProblem).problem === 'string',
    )
  );
}
