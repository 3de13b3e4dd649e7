import { AppError } from '../../common/errors';
import {
  type Dataset,
  type DatasetSpec,
  type LabelledRow,
  type Row,
  qualityThresholds,
} from './dataset-spec';

/**
 * The data-quality gate that runs before every training: schema and types, missing values, values
 * outside declared bounds, unknown categories, the label set, duplicates, class imbalance and the
 * number of usable rows. Rows with a tolerated problem (under the spec's ratio) are dropped and
 * reported as a warning; anything else is blocking and stops training.
 *
 * Row numbers count data rows from 1 (in a CSV with a header, line = row + 1).
 */
export type QualityCheck =
  | 'schema'
  | 'type'
  | 'missing'
  | 'out_of_range'
  | 'unknown_category'
  | 'label'
  | 'duplicates'
  | 'class_imbalance'
  | 'min_rows'
  | 'constant';

export interface QualityFinding {
  check: QualityCheck;
  severity: 'blocking' | 'warning';
  column?: string;
  /** Affected rows (1-based), at most `MAX_LISTED_ROWS` of them. */
  rows: number[];
  /** Total number of affected rows. */
  count: number;
  message: string;
}

export interface DataQualityReport {
  dataset: string;
  rowsRead: number;
  rowsUsed: number;
  passed: boolean;
  findings: QualityFinding[];
  /** Share of each class among the usable rows. */
  classBalance: Record<string, number>;
}

export const MAX_LISTED_ROWS = 10;

/** Raw input: column names and, per row, column → value (strings from a CSV, or typed values). */
export interface RawTable {
  columns: readonly string[];
  records: readonly Record<string, unknown>[];
}

const MISSING_TOKENS = new Set(['', 'na', 'n/a', 'nan', 'null', 'none']);

function isMissing(value: unknown): boolean {
  if (value === undefined || value === null) return true;
  if (typeof value === 'number') return Number.isNaN(value);
  return typeof value === 'string' && MISSING_TOKENS.has(value.trim().toLowerCase());
}

function listRows(rows: readonly number[]): string {
  const shown = rows.slice(0, MAX_LISTED_ROWS).join(', ');
  return rows.length > MAX_LISTED_ROWS ? `${shown}, … (${rows.length} in all)` : shown;
}

const percent = (part: number, whole: number): string =>
  `${((100 * part) / Math.max(1, whole)).toFixed(2)} %`;

export interface QualityResult {
  report: DataQualityReport;
  /** The usable rows (tolerated problems dropped), typed. */
  dataset: Dataset;
}

export function checkDataQuality(spec: DatasetSpec, table: RawTable): QualityResult {
  const thresholds = qualityThresholds(spec);
  const findings: QualityFinding[] = [];
  const total = table.records.length;
  const add = (finding: Omit<QualityFinding, 'rows'> & { rows: number[] }): void => {
    findings.push({ ...finding, rows: finding.rows.slice(0, MAX_LISTED_ROWS) });
  };

  // Schema.
  const present = new Set(table.columns);
  const expected = [...spec.features.map((f) => f.name), spec.target];
  const absent = expected.filter((name) => !present.has(name));
  for (const column of absent) {
    add({
      check: 'schema',
      severity: 'blocking',
      column,
      rows: [],
      count: total,
      message: `column "${column}" is missing (${column === spec.target ? 'target' : 'feature'} declared in the spec)`,
    });
  }
  const extra = table.columns.filter((name) => !expected.includes(name));
  if (extra.length > 0) {
    add({
      check: 'schema',
      severity: 'warning',
      rows: [],
      count: 0,
      message: `column(s) not in the spec, ignored: ${extra.join(', ')}`,
    });
  }
  if (absent.length > 0) return finish(spec, total, findings, []);

  // Per-cell checks; a row is dropped if any of its cells has a problem.
  const problemRows = new Set<number>();
  const missingByColumn = new Map<string, number[]>();
  const typeByColumn = new Map<string, number[]>();
  const rangeByColumn = new Map<string, number[]>();
  const categoryByColumn = new Map<string, { rows: number[]; values: Set<string> }>();
  const badLabels: { rows: number[]; values: Set<string> } = { rows: [], values: new Set() };
  const push = (map: Map<string, number[]>, column: string, row: number): void => {
    const list = map.get(column) ?? [];
    list.push(row);
    map.set(column, list);
    problemRows.add(row);
  };

  const typed: (LabelledRow | undefined)[] = table.records.map((record, index) => {
    const rowNumber = index + 1;
    const features: Row = {};
    let ok = true;
    for (const feature of spec.features) {
      const raw = record[feature.name];
      if (isMissing(raw)) {
        push(missingByColumn, feature.name, rowNumber);
        ok = false;
        continue;
      }
      if (feature.type === 'numeric') {
        const value = typeof raw === 'number' ? raw : Number(String(raw).trim());
        if (!Number.isFinite(value) || (feature.integer === true && !Number.isInteger(value))) {
          push(typeByColumn, feature.name, rowNumber);
          ok = false;
          continue;
        }
        if (
          (feature.min !== undefined && value < feature.min) ||
          (feature.max !== undefined && value > feature.max)
        ) {
          push(rangeByColumn, feature.name, rowNumber);
          ok = false;
          continue;
        }
        features[feature.name] = value;
      } else {
        const value = String(raw).trim();
        if (!feature.categories.includes(value)) {
          const entry = categoryByColumn.get(feature.name) ?? { rows: [], values: new Set<string>() };
          entry.rows.push(rowNumber);
          entry.values.add(value);
          categoryByColumn.set(feature.name, entry);
          problemRows.add(rowNumber);
          ok = false;
          continue;
        }
        features[feature.name] = value;
      }
    }
    const rawLabel = record[spec.target];
    if (isMissing(rawLabel)) {
      push(missingByColumn, spec.target, rowNumber);
      return undefined;
    }
    const label = String(rawLabel).trim();
    if (!spec.classes.includes(label)) {
      badLabels.rows.push(rowNumber);
      badLabels.values.add(label);
      problemRows.add(rowNumber);
      return undefined;
    }
    return ok ? { features, label } : undefined;
  });

  const describe = (feature: string): string => {
    const spec_ = spec.features.find((f) => f.name === feature);
    if (spec_?.type !== 'numeric') return '';
    return `[${spec_.min ?? '-∞'}, ${spec_.max ?? '+∞'}]`;
  };
  const missingRows = [...new Set([...missingByColumn.values()].flat())].length;
  const missingBlocking = missingRows / Math.max(1, total) > thresholds.maxMissingRatio;
  for (const [column, rows] of missingByColumn) {
    add({
      check: 'missing',
      severity: missingBlocking ? 'blocking' : 'warning',
      column,
      rows,
      count: rows.length,
      message: `column "${column}": ${rows.length} missing value(s) at rows ${listRows(rows)}${missingBlocking ? '' : ' (rows dropped)'}`,
    });
  }
  for (const [column, rows] of typeByColumn) {
    const feature = spec.features.find((f) => f.name === column);
    const kind = feature?.type === 'numeric' && feature.integer === true ? 'whole number' : 'number';
    const examples = rows.slice(0, 3).map((r) => JSON.stringify(table.records[r - 1]?.[column]));
    add({
      check: 'type',
      severity: 'blocking',
      column,
      rows,
      count: rows.length,
      message: `column "${column}": ${rows.length} value(s) are not a ${kind} (e.g. ${examples.join(', ')}) at rows ${listRows(rows)}`,
    });
  }
  const invalidRows = new Set(
    [...rangeByColumn.values(), ...[...categoryByColumn.values()].map((e) => e.rows)].flat(),
  );
  const invalidBlocking = invalidRows.size / Math.max(1, total) > thresholds.maxInvalidRatio;
  for (const [column, rows] of rangeByColumn) {
    add({
      check: 'out_of_range',
      severity: invalidBlocking ? 'blocking' : 'warning',
      column,
      rows,
      count: rows.length,
      message: `column "${column}": ${rows.length} value(s) outside ${describe(column)} at rows ${listRows(rows)}${invalidBlocking ? '' : ' (rows dropped)'}`,
    });
  }
  for (const [column, entry] of categoryByColumn) {
    add({
      check: 'unknown_category',
      severity: invalidBlocking ? 'blocking' : 'warning',
      column,
      rows: entry.rows,
      count: entry.rows.length,
      message: `column "${column}": unknown categor${entry.values.size === 1 ? 'y' : 'ies'} ${[
        ...entry.values,
      ]
        .slice(0, 5)
        .map((v) => JSON.stringify(v))
        .join(', ')} at rows ${listRows(entry.rows)}${invalidBlocking ? '' : ' (rows dropped)'}`,
    });
  }
  if (badLabels.rows.length > 0) {
    add({
      check: 'label',
      severity: 'blocking',
      column: spec.target,
      rows: badLabels.rows,
      count: badLabels.rows.length,
      message: `target "${spec.target}": label(s) ${[...badLabels.values]
        .slice(0, 5)
        .map((v) => JSON.stringify(v))
        .join(', ')} not in the label set [${spec.classes.join(', ')}] at rows ${listRows(badLabels.rows)}`,
    });
  }

  const usable = typed.filter((row): row is LabelledRow => row !== undefined);

  // Duplicates (exact, features + label), among the usable rows.
  const seen = new Map<string, number>();
  const duplicateRows: number[] = [];
  typed.forEach((row, index) => {
    if (!row) return;
    const key = JSON.stringify([...spec.features.map((f) => row.features[f.name]), row.label]);
    if (seen.has(key)) duplicateRows.push(index + 1);
    else seen.set(key, index + 1);
  });
  if (duplicateRows.length > 0) {
    const blocking = duplicateRows.length / Math.max(1, usable.length) > thresholds.maxDuplicateRatio;
    add({
      check: 'duplicates',
      severity: blocking ? 'blocking' : 'warning',
      rows: duplicateRows,
      count: duplicateRows.length,
      message: `${duplicateRows.length} exact duplicate row(s) (${percent(duplicateRows.length, usable.length)}, limit ${percent(thresholds.maxDuplicateRatio, 1)}) at rows ${listRows(duplicateRows)}${blocking ? '' : ' (kept)'}`,
    });
  }

  // Constant features carry no information; worth knowing, not fatal.
  for (const feature of spec.features) {
    const values = new Set(usable.map((r) => r.features[feature.name]));
    if (usable.length > 1 && values.size === 1) {
      add({
        check: 'constant',
        severity: 'warning',
        column: feature.name,
        rows: [],
        count: usable.length,
        message: `column "${feature.name}" has a single value (${String([...values][0])}) in every usable row`,
      });
    }
  }

  return finish(spec, total, findings, usable, thresholds);
}

function finish(
  spec: DatasetSpec,
  total: number,
  findings: QualityFinding[],
  usable: LabelledRow[],
  thresholds = qualityThresholds(spec),
): QualityResult {
  const classBalance: Record<string, number> = {};
  for (const label of spec.classes) classBalance[label] = 0;
  for (const row of usable) classBalance[row.label] = (classBalance[row.label] ?? 0) + 1;
  for (const label of spec.classes)
    classBalance[label] = (classBalance[label] as number) / Math.max(1, usable.length);

  const schemaBroken = findings.some((f) => f.check === 'schema' && f.severity === 'blocking');
  if (!schemaBroken) {
    if (usable.length < thresholds.minRows) {
      findings.push({
        check: 'min_rows',
        severity: 'blocking',
        rows: [],
        count: usable.length,
        message: `only ${usable.length} usable row(s) of ${total}; at least ${thresholds.minRows} required`,
      });
    }
    const rare = spec.classes.filter((label) => (classBalance[label] as number) < thresholds.minClassRatio);
    for (const label of rare) {
      findings.push({
        check: 'class_imbalance',
        severity: 'blocking',
        column: spec.target,
        rows: [],
        count: Math.round((classBalance[label] as number) * usable.length),
        message: `class "${label}" is ${percent((classBalance[label] as number) * usable.length, usable.length)} of usable rows; at least ${percent(thresholds.minClassRatio, 1)} required`,
      });
    }
  }
  const passed = !findings.some((f) => f.severity === 'blocking');
  return {
    report: { dataset: spec.name, rowsRead: total, rowsUsed: usable.length, passed, findings, classBalance },
    dataset: { spec, rows: usable },
  };
}

/** A typed data set seen as a raw table, so that built-in data goes through the same gate. */
export function datasetAsTable(dataset: Dataset): RawTable {
  return {
    columns: [...dataset.spec.features.map((f) => f.name), dataset.spec.target],
    records: dataset.rows.map((row) => ({ ...row.features, [dataset.spec.target]: row.label })),
  };
}

export function formatQualityReport(report: DataQualityReport): string {
  const blocking = report.findings.filter((f) => f.severity === 'blocking').length;
  const warnings = report.findings.length - blocking;
  const lines = [
    `Data quality of "${report.dataset}": ${report.passed ? 'PASSED' : 'FAILED'} ` +
      `(${report.rowsRead} rows read, ${report.rowsUsed} usable; ${blocking} blocking, ${warnings} warning(s))`,
  ];
  for (const finding of report.findings) {
    lines.push(
      `  ${finding.severity === 'blocking' ? 'BLOCKING' : 'warning '} ${finding.check}: ${finding.message}`,
    );
  }
  lines.push(
    `  classes: ${Object.entries(report.classBalance)
      .map(([label, share]) => `${label} ${(100 * share).toFixed(1)} %`)
      .join(', ')}`,
  );
  if (report.findings.some((f) => f.rows.length > 0))
    lines.push('  (rows count data rows from 1; CSV line = row + 1)');
  return lines.join('\n');
}

export class DataQualityError extends AppError {
  constructor(readonly report: DataQualityReport) {
    const blocking = report.findings.filter((f) => f.severity === 'blocking');
    super(
      'INVALID_INPUT',
      `Data quality gate failed for "${report.dataset}": ${blocking.map((f) => f.message).join('; ')}`,
      report,
    );
  }
}
