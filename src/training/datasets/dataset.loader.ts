import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { AppError } from '../../common/errors';
import { type DatasetSpec, parseDatasetSpec } from '../domain/dataset-spec';
import { type RawTable, datasetAsTable } from '../domain/data-quality';
import { parseCsv } from '../domain/csv';
import { generateCredit } from './credit.dataset';
import { loadIris } from './iris.dataset';

export const BUILT_IN_DATASETS = ['iris', 'credit'] as const;
export type BuiltInDataset = (typeof BUILT_IN_DATASETS)[number];

export interface DatasetSource {
  spec: DatasetSpec;
  table: RawTable;
  /** Where the rows came from, for messages. */
  origin: string;
}

export function readDatasetSpec(path: string): { spec: DatasetSpec; csv?: string } {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new AppError('INVALID_INPUT', `Cannot read dataset spec ${path}: ${(error as Error).message}`);
  }
  const spec = parseDatasetSpec(json);
  const csv = (json as { csv?: unknown }).csv;
  return { spec, csv: typeof csv === 'string' ? resolve(dirname(path), csv) : undefined };
}

export function readCsvTable(path: string): RawTable {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new AppError('INVALID_INPUT', `Cannot read CSV ${path}: ${(error as Error).message}`);
  }
  try {
    return parseCsv(text);
  } catch (error) {
    throw new AppError('INVALID_INPUT', `${path}: ${(error as Error).message}`);
  }
}

/**
 * Resolves `iris`, `credit`, a path to a `spec.json`, or a spec object, to a spec and its raw rows.
 * A spec needs a CSV: `csvPath`, or a `"csv"` field in the spec file (relative to it).
 */
export function loadDatasetSource(dataset: string | DatasetSpec, csvPath?: string): DatasetSource {
  if (typeof dataset === 'string' && (BUILT_IN_DATASETS as readonly string[]).includes(dataset) && !csvPath) {
    const data = dataset === 'iris' ? loadIris() : generateCredit();
    return { spec: data.spec, table: datasetAsTable(data), origin: `built-in ${dataset}` };
  }
  let spec: DatasetSpec;
  let csv = csvPath;
  if (typeof dataset === 'string') {
    if ((BUILT_IN_DATASETS as readonly string[]).includes(dataset)) {
      spec = (dataset === 'iris' ? loadIris() : generateCredit({ rows: 0 })).spec;
    } else {
      const read = readDatasetSpec(dataset);
      spec = read.spec;
      csv ??= read.csv;
    }
  } else {
    spec = parseDatasetSpec(dataset);
  }
  if (!csv) {
    throw new AppError(
      'INVALID_INPUT',
      `Dataset "${spec.name}": no CSV given (use --csv or a "csv" field in the spec)`,
    );
  }
  return { spec, table: readCsvTable(csv), origin: csv };
}
