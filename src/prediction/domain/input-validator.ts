import { AppError, type FieldProblem, InvalidInputError } from '../../common/errors';
import type { ModelSignature } from '../../common/signature';
import type { ColumnBuffer } from '../../inference/column-buffers';

/** A response warning for a value accepted although outside the training range. */
export interface RangeWarning {
  readonly field: string;
  readonly problem: string;
}

export interface RowsCheck {
  /** Every problem found, capped at `MAX_PROBLEMS` (+ one summary entry); empty when the rows are valid. */
  problems: FieldProblem[];
  /** Per row, the indices of the features outside their training range; undefined when no row has one. */
  outOfRange: (number[] | undefined)[] | undefined;
}

/** Bounded error output: a 1000-row request with every field wrong must not answer megabytes. */
export const MAX_PROBLEMS = 200;
const MAX_LISTED_CATEGORIES = 20;

const NUMERIC = 0;
const CATEGORICAL = 1;

/**
 * The input check of one model version, compiled once from its signature (when the version is loaded).
 *
 * Why not class-validator: reflection-driven validation costs tens of µs per request on the hot path
 * (docs/serving.md, FACTS.md). This one is plain loops over precomputed arrays; it checks every feature
 * of every row (missing, unknown, wrong type, null, NaN/±Infinity, physical bounds, integer-ness,
 * unknown category), collects all problems, and writes the valid values straight into the
 * micro-batch's input columns, so there is no intermediate copy.
 */
export class InputValidator {
  readonly featureNames: readonly string[];
  /** Precomputed per feature (no string building on the hot path). */
  readonly rangeWarnings: readonly RangeWarning[];
  private readonly featureIndex: ReadonlyMap<string, number>;
  private readonly kinds: Uint8Array;
  private readonly mins: Float64Array;
  private readonly maxs: Float64Array;
  private readonly integers: Uint8Array;
  private readonly trainingMins: Float64Array;
  private readonly trainingMaxs: Float64Array;
  private readonly categories: (ReadonlySet<string> | undefined)[];
  private readonly categoryProblems: string[];
  private readonly minProblems: string[];
  private readonly maxProblems: string[];
  /** `checkRows` for requests whose rows are all valid (`compileValidRowsWriter`). */
  private readonly writeValidRows: ValidRowsWriter;

  constructor(signature: ModelSignature) {
    const features = signature.features;
    const count = features.length;
    this.featureNames = features.map((feature) => feature.name);
    this.featureIndex = new Map(this.featureNames.map((name, index) => [name, index]));
    this.kinds = new Uint8Array(count);
    this.mins = new Float64Array(count).fill(-Infinity);
    this.maxs = new Float64Array(count).fill(Infinity);
    this.integers = new Uint8Array(count);
    this.trainingMins = new Float64Array(count).fill(-Infinity);
    this.trainingMaxs = new Float64Array(count).fill(Infinity);
    this.categories = [];
    this.categoryProblems = [];
    this.minProblems = [];
    this.maxProblems = [];
    const warnings: RangeWarning[] = [];
    features.forEach((feature, index) => {
      if (feature.type === 'numeric') {
        this.kinds[index] = NUMERIC;
        if (feature.min !== undefined) this.mins[index] = feature.min;
        if (feature.max !== undefined) this.maxs[index] = feature.max;
        this.integers[index] = feature.integer === true ? 1 : 0;
        this.trainingMins[index] = feature.trainingMin;
        this.trainingMaxs[index] = feature.trainingMax;
        this.categories.push(undefined);
        this.categoryProblems.push('');
        warnings.push(
          Object.freeze({
            field: feature.name,
            problem: `outside training range [${feature.trainingMin}, ${feature.trainingMax}]`,
          }),
        );
      } else {
        this.kinds[index] = CATEGORICAL;
        this.categories.push(new Set(feature.categories));
        const listed = feature.categories.slice(0, MAX_LISTED_CATEGORIES).join(', ');
        const more = feature.categories.length > MAX_LISTED_CATEGORIES ? ', …' : '';
        this.categoryProblems.push(`must be one of: ${listed}${more}`);
        warnings.push(Object.freeze({ field: feature.name, problem: '' }));
      }
      this.minProblems.push(`must be >= ${this.mins[index]}`);
      this.maxProblems.push(`must be <= ${this.maxs[index]}`);
    });
    this.rangeWarnings = warnings;
    this.writeValidRows = compileValidRowsWriter(
      this.featureNames,
      this.kinds,
      this.integers,
      [this.mins, this.maxs, this.trainingMins, this.trainingMaxs],
      this.categories,
    );
  }

  /**
   * Checks `rows` and writes their values into `columns[feature][offset + row]`. `flat` names fields
   * `age` (the `/predict` body) instead of `instances[0].age`. Columns are left partly written when
   * problems are found: the caller then simply does not submit the rows.
   *
   * Rows that are all valid take the compiled path; at the first row that is not, the request is
   * checked again by `checkRowsInDetail`, which names every problem.
   */
  checkRows(
    rows: readonly unknown[],
    columns: readonly ColumnBuffer[],
    offset: number,
    flat = false,
  ): RowsCheck {
    const outOfRange = this.writeValidRows(rows, columns, offset);
    if (outOfRange !== null) return { problems: [], outOfRange };
    return this.checkRowsInDetail(rows, columns, offset, flat);
  }

  /** `checkRows` without its compiled path: every row and feature checked one by one, every problem named. */
  checkRowsInDetail(
    rows: readonly unknown[],
    columns: readonly ColumnBuffer[],
    offset: number,
    flat = false,
  ): RowsCheck {
    const problems: FieldProblem[] = [];
    let outOfRange: (number[] | undefined)[] | undefined;
    const featureCount = this.kinds.length;
    const names = this.featureNames;
    for (let row = 0; row < rows.length; row++) {
      const instance = rows[row];
      if (typeof instance !== 'object' || instance === null || Array.isArray(instance)) {
        addProblem(problems, flat ? 'body' : `instances[${row}]`, 'must be a JSON object');
        continue;
      }
      const values = instance as Record<string, unknown>;
      let present = 0;
      for (let feature = 0; feature < featureCount; feature++) {
        const value = values[names[feature]!];
        if (value === undefined) {
          addProblem(problems, fieldName(flat, row, names[feature]!), 'is required');
          continue;
        }
        present++;
        if (this.kinds[feature] === NUMERIC) {
          if (typeof value !== 'number') {
            addProblem(
              problems,
              fieldName(flat, row, names[feature]!),
              value === null ? 'must not be null' : 'must be a number',
            );
          } else if (!Number.isFinite(value)) {
            addProblem(problems, fieldName(flat, row, names[feature]!), 'must be a finite number');
          } else if (this.integers[feature] === 1 && !Number.isInteger(value)) {
            addProblem(problems, fieldName(flat, row, names[feature]!), 'must be an integer');
          } else if (value < this.mins[feature]!) {
            addProblem(problems, fieldName(flat, row, names[feature]!), this.minProblems[feature]!);
          } else if (value > this.maxs[feature]!) {
            addProblem(problems, fieldName(flat, row, names[feature]!), this.maxProblems[feature]!);
          } else {
            (columns[feature] as Float32Array)[offset + row] = value;
            if (value < this.trainingMins[feature]! || value > this.trainingMaxs[feature]!) {
              outOfRange ??= new Array<number[] | undefined>(rows.length).fill(undefined);
              (outOfRange[row] ??= []).push(feature);
            }
          }
        } else if (typeof value !== 'string') {
          addProblem(
            problems,
            fieldName(flat, row, names[feature]!),
            value === null ? 'must not be null' : `must be a string; ${this.categoryProblems[feature]!}`,
          );
        } else if (!this.categories[feature]!.has(value)) {
          addProblem(problems, fieldName(flat, row, names[feature]!), this.categoryProblems[feature]!);
        } else {
          (columns[feature] as string[])[offset + row] = value;
        }
      }
      // Unknown fields: counting keys is cheap; naming them only happens on the error path.
      let keys = 0;
      for (const _key in values) keys++;
      if (keys > present) {
        for (const key of Object.keys(values)) {
          if (!this.featureIndex.has(key)) {
            addProblem(problems, fieldName(flat, row, key), 'is not a feature of this model');
          }
        }
      }
    }
    if (problems.length > MAX_PROBLEMS) {
      const hidden = problems.length - MAX_PROBLEMS;
      problems.length = MAX_PROBLEMS;
      problems.push({ field: flat ? 'body' : 'instances', problem: `${hidden} more problem(s) not listed` });
    }
    return { problems, outOfRange };
  }
}

/**
 * Writes rows that are all valid into the columns and returns their out-of-range flags (`RowsCheck`),
 * or returns null at the first row that is not plainly valid (the caller then checks in detail).
 */
type ValidRowsWriter = (
  rows: readonly unknown[],
  columns: readonly ColumnBuffer[],
  offset: number,
) => RowsCheck['outOfRange'] | null;

/**
 * The valid-rows path of one signature, as generated code: each feature read with its name as a
 * literal key, so that V8 caches the property's place in the rows' shared shape, where the generic loop
 * looks every name up again (`row[names[feature]]`). 100 credit rows: 5.1 µs against 15.8 for the
 * generic loop (`docs/performance.md`, pass 15). The names enter the source only as `JSON.stringify`
 * literals and the limits as array reads, never as code.
 */
function compileValidRowsWriter(
  names: readonly string[],
  kinds: Uint8Array,
  integers: Uint8Array,
  limits: readonly [Float64Array, Float64Array, Float64Array, Float64Array],
  categories: readonly (ReadonlySet<string> | undefined)[],
): ValidRowsWriter {
  const lines: string[] = [];
  names.forEach((name, index) => {
    const value = `value${index}`;
    lines.push(`const ${value} = row[${JSON.stringify(name)}];`);
    if (kinds[index] === NUMERIC) {
      const integer = integers[index] === 1 ? ` || !Number.isInteger(${value})` : '';
      lines.push(
        `if (!Number.isFinite(${value}) || ${value} < min[${index}] || ${value} > max[${index}]${integer}) return null;`,
        `columns[${index}][at] = ${value};`,
        `if (${value} < trainingMin[${index}] || ${value} > trainingMax[${index}]) {`,
        '  outOfRange ??= new Array(rows.length).fill(undefined);',
        `  (outOfRange[rowIndex] ??= []).push(${index});`,
        '}',
      );
    } else {
      lines.push(
        `if (typeof ${value} !== 'string' || !categories[${index}].has(${value})) return null;`,
        `columns[${index}][at] = ${value};`,
      );
    }
  });
  const source = `return function writeValidRows(rows, columns, offset) {
  let outOfRange;
  for (let rowIndex = 0; rowIndex < rows.length; rowIndex++) {
    const row = rows[rowIndex];
    if (typeof row !== 'object' || row === null || Array.isArray(row)) return null;
    const at = offset + rowIndex;
    ${lines.join('\n    ')}
    let keys = 0;
    for (const key in row) keys++;
    if (keys !== ${names.length}) return null;
  }
  return outOfRange;
};`;
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- code from the signature (names as literals)
  const factory = new Function('min', 'max', 'trainingMin', 'trainingMax', 'categories', source) as (
    ...args: unknown[]
  ) => ValidRowsWriter;
  return factory(...limits, categories);
}

function addProblem(problems: FieldProblem[], field: string, problem: string): void {
  // Past the cap only the count matters; keep the array small.
  if (problems.length <= MAX_PROBLEMS) problems.push({ field, problem });
  else problems.push(OVERFLOW);
}
const OVERFLOW: FieldProblem = Object.freeze({ field: '', problem: '' });

function fieldName(flat: boolean, row: number, name: string): string {
  return flat ? name : `instances[${row}].${name}`;
}

export class PayloadTooLargeError extends AppError {
  constructor(count: number, limit: number) {
    super('PAYLOAD_TOO_LARGE', `${count} instances exceed the limit of ${limit} per request`);
  }
}

/**
 * The `{"instances": [...]}` envelope, checked by hand for the same reason as the features.
 * Returns the rows; throws `InvalidInputError` (400) or `PayloadTooLargeError` (413).
 */
export function readInstances(body: unknown, maxInstances: number): readonly unknown[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidInputError([{ field: 'body', problem: 'must be a JSON object with "instances"' }]);
  }
  const envelope = body as Record<string, unknown>;
  const instances = envelope.instances;
  const problems: FieldProblem[] = [];
  for (const key in envelope) {
    if (key !== 'instances') problems.push({ field: key, problem: 'is not allowed (only "instances")' });
  }
  if (instances === undefined) problems.push({ field: 'instances', problem: 'is required' });
  else if (!Array.isArray(instances)) problems.push({ field: 'instances', problem: 'must be an array' });
  else if (instances.length === 0) problems.push({ field: 'instances', problem: 'must not be empty' });
  if (problems.length > 0) throw new InvalidInputError(problems);
  const rows = instances as unknown[];
  if (rows.length > maxInstances) throw new PayloadTooLargeError(rows.length, maxInstances);
  return rows;
}
