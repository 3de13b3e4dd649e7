import { type FieldProblem, InvalidInputError } from '../../common/errors';
import type { FeatureSpec } from '../../common/signature';
import { parseCsvRows } from '../../training/domain/csv';

/**
 * MLflow's scoring protocol (`mlflow models serve`, `POST /invocations`): the JSON input formats
 * `dataframe_split`, `dataframe_records`, `instances`, `inputs` (exactly one), CSV, and the
 * `{"predictions": …}` answer. Translated into and out of Vigil's `instances` rows.
 */
export const INPUT_FORMATS = ['dataframe_split', 'dataframe_records', 'instances', 'inputs'] as const;
export type InputFormat = (typeof INPUT_FORMATS)[number];

/** `params.output`: what each entry of `predictions` holds. */
export const OUTPUT_KINDS = ['label', 'probabilities', 'full'] as const;
export type OutputKind = (typeof OUTPUT_KINDS)[number];

export type Row = Record<string, unknown>;

export interface ScoringRequest {
  rows: Row[];
  output: OutputKind;
}

/** The body is not a scoring request at all (MLflow's BAD_REQUEST), as opposed to bad feature values. */
export class ScoringRequestError extends InvalidInputError {}

const REQUIRED_INPUT_FORMAT = `The input must be a JSON dictionary with exactly one of the input fields ${INPUT_FORMATS.map((format) => `'${format}'`).join(', ')}`;

/** A JSON `/invocations` body. Unknown top-level keys are ignored, as MLflow does (`params` is read). */
export function readScoringJson(body: unknown, features: readonly FeatureSpec[]): ScoringRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    const received = Array.isArray(body) ? 'a list' : body === null ? 'null' : `a ${typeof body}`;
    throw formatError('body', `${REQUIRED_INPUT_FORMAT}. Received ${received}`);
  }
  const request = body as Record<string, unknown>;
  const formats = INPUT_FORMATS.filter((format) => request[format] !== undefined);
  if (formats.length !== 1) {
    throw formatError(
      'body',
      `${REQUIRED_INPUT_FORMAT}. Received dictionary with input fields: [${Object.keys(request)
        .map((key) => `'${key}'`)
        .join(', ')}]`,
    );
  }
  const format = formats[0]!;
  const output = readOutput(request.params);
  const value = request[format];
  switch (format) {
    case 'dataframe_split':
      return { rows: readSplit(value), output };
    case 'dataframe_records':
      return { rows: readRecords(value, format, features), output };
    case 'instances':
      return { rows: readRecords(value, format, features), output };
    case 'inputs':
      return {
        rows:
          typeof value === 'object' && value !== null && !Array.isArray(value)
            ? readColumns(value as Record<string, unknown>, format)
            : readRecords(value, format, features),
        output,
      };
  }
}

/**
 * A `text/csv` body as `pandas.DataFrame.to_csv()` writes it: a header line, then one line per row.
 * A first column with an empty name (the DataFrame index) is dropped. Cells of numeric features that
 * read as numbers become numbers; empty cells become null (pandas' NaN), which the validator rejects.
 */
export function readScoringCsv(text: string, features: readonly FeatureSpec[]): ScoringRequest {
  let table: string[][];
  try {
    table = parseCsvRows(text);
  } catch (error) {
    throw formatError('body', `Failed to parse input as CSV: ${(error as Error).message}`);
  }
  const [header, ...lines] = table;
  if (header === undefined || lines.length === 0) {
    throw formatError('body', 'The CSV input must have a header line and at least one row');
  }
  const names = header.map((name) => name.trim());
  const skipIndex = names[0] === '' ? 1 : 0;
  const numeric = new Set(
    features.filter((feature) => feature.type === 'numeric').map((feature) => feature.name),
  );
  const problems: FieldProblem[] = [];
  names.forEach((name, column) => {
    if (column >= skipIndex && name === '')
      problems.push({ field: `column ${column}`, problem: 'has no name' });
  });
  const rows: Row[] = [];
  lines.forEach((cells, line) => {
    if (cells.length !== names.length) {
      problems.push({
        field: `line ${line + 2}`,
        problem: `has ${cells.length} field(s) but the header has ${names.length}`,
      });
      return;
    }
    const row: Row = {};
    for (let column = skipIndex; column < names.length; column++) {
      const name = names[column]!;
      const cell = cells[column]!;
      row[name] = cell === '' ? null : numeric.has(name) ? toNumber(cell) : cell;
    }
    rows.push(row);
  });
  if (problems.length > 0) throw new ScoringRequestError(problems.slice(0, 20));
  return { rows, output: 'label' };
}

/** `{"columns": [...], "data": [[...], ...], "index"?: [...]}` (pandas' `split` orient; index ignored). */
function readSplit(value: unknown): Row[] {
  const field = 'dataframe_split';
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw formatError(field, 'must be an object with "columns" and "data" (pandas split orient)');
  }
  const split = value as Record<string, unknown>;
  const columns = split.columns;
  const data = split.data;
  const problems: FieldProblem[] = [];
  if (!Array.isArray(columns) || !columns.every((column) => typeof column === 'string')) {
    problems.push({ field: `${field}.columns`, problem: 'is required: an array of column names' });
  }
  if (!Array.isArray(data))
    problems.push({ field: `${field}.data`, problem: 'is required: an array of rows' });
  if (problems.length > 0) throw new ScoringRequestError(problems);
  const names = columns as string[];
  const rows = data as unknown[];
  if (rows.length === 0) throw formatError(`${field}.data`, 'must not be empty');
  return rows.map((cells, index) => {
    if (!Array.isArray(cells) || cells.length !== names.length) {
      throw formatError(
        `${field}.data[${index}]`,
        `must be an array of ${names.length} value(s), one per column`,
      );
    }
    const row: Row = {};
    names.forEach((name, column) => {
      row[name] = (cells as unknown[])[column];
    });
    return row;
  });
}

/** An array of rows: objects keyed by feature, or arrays of values in the signature's feature order. */
function readRecords(value: unknown, field: InputFormat, features: readonly FeatureSpec[]): Row[] {
  if (!Array.isArray(value)) throw formatError(field, 'must be an array of rows');
  if (value.length === 0) throw formatError(field, 'must not be empty');
  return value.map((item: unknown, index) => {
    if (Array.isArray(item)) {
      if (item.length !== features.length) {
        throw formatError(
          `${field}[${index}]`,
          `a row given as an array must have ${features.length} value(s), in the order ${features.map((feature) => feature.name).join(', ')}`,
        );
      }
      const row: Row = {};
      features.forEach((feature, column) => {
        row[feature.name] = (item as unknown[])[column];
      });
      return row;
    }
    if (typeof item === 'object' && item !== null) return item as Row;
    throw formatError(`${field}[${index}]`, 'must be an object (column → value) or an array of values');
  });
}

/** TF-serving's columnar form: `{"inputs": {"feature": [v0, v1, ...], ...}}`. */
function readColumns(columns: Record<string, unknown>, field: InputFormat): Row[] {
  const names = Object.keys(columns);
  if (names.length === 0) throw formatError(field, 'must not be empty');
  let length: number | undefined;
  for (const name of names) {
    const values = columns[name];
    if (!Array.isArray(values)) throw formatError(`${field}.${name}`, 'must be an array (one value per row)');
    if (length !== undefined && values.length !== length) {
      throw formatError(`${field}.${name}`, `has ${values.length} value(s) but ${names[0]} has ${length}`);
    }
    length = values.length;
  }
  if (length === 0) throw formatError(field, 'columns must not be empty');
  const rows: Row[] = [];
  for (let index = 0; index < length!; index++) {
    const row: Row = {};
    for (const name of names) row[name] = (columns[name] as unknown[])[index];
    rows.push(row);
  }
  return rows;
}

function readOutput(params: unknown): OutputKind {
  if (params === undefined || params === null) return 'label';
  if (typeof params !== 'object' || Array.isArray(params)) throw formatError('params', 'must be an object');
  const output = (params as Record<string, unknown>).output;
  if (output === undefined) return 'label';
  if (typeof output === 'string' && (OUTPUT_KINDS as readonly string[]).includes(output)) {
    return output as OutputKind;
  }
  // A valid request with a bad parameter value: INVALID_PARAMETER_VALUE, not BAD_REQUEST.
  throw new InvalidInputError([
    { field: 'params.output', problem: `must be one of: ${OUTPUT_KINDS.join(', ')}` },
  ]);
}

/** A numeric-looking cell becomes a number; anything else stays text (the validator names it). */
function toNumber(cell: string): number | string {
  const trimmed = cell.trim();
  if (trimmed === '') return cell;
  const lowered = trimmed.toLowerCase();
  if (lowered === 'nan') return Number.NaN;
  if (lowered === 'inf' || lowered === '+inf' || lowered === 'infinity') return Number.POSITIVE_INFINITY;
  if (lowered === '-inf' || lowered === '-infinity') return Number.NEGATIVE_INFINITY;
  const number = Number(trimmed);
  return Number.isNaN(number) ? cell : number;
}

function formatError(field: string, problem: string): ScoringRequestError {
  return new ScoringRequestError([{ field, problem }], problem);
}

/** What `scoringResponse` needs of a prediction (a subset of `/v1`'s `Prediction`). */
export interface RowPrediction {
  predictionId: string;
  label: string;
  probabilities: Record<string, number>;
  score?: number;
  warnings?: readonly { field: string; problem: string }[];
}

/**
 * `{"predictions": [...]}`: per row the label (like a scikit-learn `predict`), or with
 * `params.output = "probabilities"` the class probabilities in the order of `classes` (like
 * `predict_proba`), or with `"full"` Vigil's own prediction objects (label, probabilities by class,
 * score, predictionId for feedback, warnings).
 */
export function scoringResponse(
  output: OutputKind,
  classes: readonly string[],
  predictions: readonly RowPrediction[],
): { predictions: unknown[] } {
  switch (output) {
    case 'label':
      return { predictions: predictions.map((prediction) => prediction.label) };
    case 'probabilities':
      return {
        predictions: predictions.map((prediction) =>
          classes.map((label) => prediction.probabilities[label] ?? 0),
        ),
      };
    case 'full':
      return { predictions: [...predictions] };
  }
}
