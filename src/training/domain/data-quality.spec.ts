import { type RawTable, checkDataQuality, formatQualityReport } from './data-quality';
import { type DatasetSpec } from './dataset-spec';

const spec: DatasetSpec = {
  name: 'loans',
  features: [
    { name: 'age', type: 'numeric', min: 18, max: 100, integer: true },
    { name: 'income', type: 'numeric', min: 0 },
    { name: 'housing', type: 'categorical', categories: ['own', 'rent'] },
  ],
  target: 'approved',
  classes: ['no', 'yes'],
  quality: { minRows: 4, minClassRatio: 0.2 },
  primaryMetric: 'roc_auc',
};

/** A clean table of `count` distinct rows, alternating labels; `edit` breaks some of them. */
function makeTable(
  count = 10,
  edit: (record: Record<string, string>, row: number) => void = () => {},
): RawTable {
  const records = Array.from({ length: count }, (_, i) => {
    const record: Record<string, string> = {
      age: String(20 + i),
      income: String(1000 * (i + 1)),
      housing: i % 2 === 0 ? 'own' : 'rent',
      approved: i % 2 === 0 ? 'yes' : 'no',
    };
    edit(record, i + 1);
    return record;
  });
  return { columns: ['age', 'income', 'housing', 'approved'], records };
}

const blocking = (table: RawTable, s: DatasetSpec = spec) =>
  checkDataQuality(s, table).report.findings.filter((f) => f.severity === 'blocking');

describe('checkDataQuality', () => {
  it('passes a clean table and types its values', () => {
    const { report, dataset } = checkDataQuality(spec, makeTable());
    expect(report.passed).toBe(true);
    expect(report.findings).toEqual([]);
    expect(report.rowsUsed).toBe(10);
    expect(dataset.rows[0]).toEqual({ features: { age: 20, income: 1000, housing: 'own' }, label: 'yes' });
    expect(report.classBalance).toEqual({ no: 0.5, yes: 0.5 });
  });

  it('blocks on a missing column, naming it', () => {
    const table = makeTable();
    const findings = blocking({ columns: ['age', 'housing', 'approved'], records: table.records });
    expect(findings).toEqual([expect.objectContaining({ check: 'schema', column: 'income' })]);
    expect(findings[0]!.message).toContain('column "income" is missing');
  });

  it('warns about extra columns without blocking', () => {
    const table = makeTable();
    const { report } = checkDataQuality(spec, {
      columns: [...table.columns, 'notes'],
      records: table.records,
    });
    expect(report.passed).toBe(true);
    expect(report.findings[0]).toMatchObject({ check: 'schema', severity: 'warning' });
    expect(report.findings[0]!.message).toContain('notes');
  });

  it.each([
    ['not a number', 'age', 'forty', 'type', 'not a whole number'],
    ['a fraction in an integer column', 'age', '30.5', 'type', 'not a whole number'],
    ['below the minimum', 'age', '12', 'out_of_range', 'outside [18, 100]'],
    ['negative income', 'income', '-5', 'out_of_range', 'outside [0, +∞]'],
    ['an unknown category', 'housing', 'castle', 'unknown_category', '"castle"'],
    ['a missing value', 'income', '', 'missing', 'missing value'],
    ['an NA token', 'housing', 'NA', 'missing', 'missing value'],
  ])('blocks on %s, naming column, rows and problem', (_case, column, value, check, text) => {
    const table = makeTable(10, (record, row) => {
      if (row === 3 || row === 7) record[column] = value;
    });
    const findings = blocking(table);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ check, column, rows: [3, 7], count: 2 });
    expect(findings[0]!.message).toContain(`column "${column}"`);
    expect(findings[0]!.message).toContain(text);
    expect(findings[0]!.message).toContain('rows 3, 7');
  });

  it('drops rows with tolerated problems when under the spec ratio, as a warning', () => {
    const tolerant: DatasetSpec = {
      ...spec,
      quality: { ...spec.quality, maxInvalidRatio: 0.2, maxMissingRatio: 0.1 },
    };
    const table = makeTable(10, (record, row) => {
      if (row === 2) record.age = '150';
      if (row === 5) record.income = '';
    });
    const { report, dataset } = checkDataQuality(tolerant, table);
    expect(report.passed).toBe(true);
    expect(report.rowsUsed).toBe(8);
    expect(dataset.rows).toHaveLength(8);
    expect(report.findings.map((f) => [f.check, f.severity])).toEqual([
      ['missing', 'warning'],
      ['out_of_range', 'warning'],
    ]);
  });

  it('blocks on labels outside the label set', () => {
    const findings = blocking(makeTable(10, (record, row) => row === 4 && (record.approved = 'maybe')));
    expect(findings).toEqual([expect.objectContaining({ check: 'label', column: 'approved', rows: [4] })]);
    expect(findings[0]!.message).toContain('"maybe" not in the label set [no, yes]');
  });

  it('reports duplicates: a warning under the limit, blocking above it', () => {
    const base = makeTable(10);
    const withDuplicates = (n: number): RawTable => ({
      columns: base.columns,
      records: [...base.records, ...base.records.slice(0, n)],
    });
    const few = checkDataQuality(
      { ...spec, quality: { ...spec.quality, maxDuplicateRatio: 0.2 } },
      withDuplicates(1),
    );
    expect(few.report.passed).toBe(true);
    expect(few.report.findings[0]).toMatchObject({ check: 'duplicates', severity: 'warning', rows: [11] });
    const many = blocking(withDuplicates(5));
    expect(many).toEqual([
      expect.objectContaining({ check: 'duplicates', rows: [11, 12, 13, 14, 15], count: 5 }),
    ]);
  });

  it('blocks on class imbalance and on too few rows', () => {
    const imbalanced = makeTable(10, (record, row) => {
      record.approved = row === 1 ? 'yes' : 'no';
    });
    expect(blocking(imbalanced)).toEqual([
      expect.objectContaining({ check: 'class_imbalance', column: 'approved' }),
    ]);
    expect(blocking(imbalanced)[0]!.message).toContain(
      'class "yes" is 10.00 % of usable rows; at least 20.00 % required',
    );
    expect(blocking(makeTable(3))).toEqual([expect.objectContaining({ check: 'min_rows', count: 3 })]);
  });

  it('lists at most 10 rows but counts them all', () => {
    const table = makeTable(30, (record, row) => row > 5 && (record.age = 'x'));
    const [finding] = blocking(table);
    expect(finding!.count).toBe(25);
    expect(finding!.rows).toHaveLength(10);
    expect(finding!.message).toContain('(25 in all)');
  });

  it('formats a readable report', () => {
    const { report } = checkDataQuality(
      spec,
      makeTable(10, (record, row) => row === 2 && (record.age = '7')),
    );
    const text = formatQualityReport(report);
    expect(text).toContain(
      'Data quality of "loans": FAILED (10 rows read, 9 usable; 1 blocking, 0 warning(s))',
    );
    expect(text).toContain('BLOCKING out_of_range: column "age": 1 value(s) outside [18, 100] at rows 2');
  });
});
