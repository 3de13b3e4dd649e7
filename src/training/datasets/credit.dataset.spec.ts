import { checkDataQuality, datasetAsTable } from '../domain/data-quality';
import { datasetFingerprint } from '../domain/reference-profile';
import { CREDIT_SPEC, generateCredit } from './credit.dataset';
import { loadIris } from './iris.dataset';

describe('credit (synthetic)', () => {
  const data = generateCredit();
  const share = (rows: typeof data.rows) => rows.filter((r) => r.label === '1').length / rows.length;

  it('has at least 20,000 rows and a default rate of 8–12 %', () => {
    expect(data.rows.length).toBeGreaterThanOrEqual(20_000);
    expect(share(data.rows)).toBeGreaterThan(0.08);
    expect(share(data.rows)).toBeLessThan(0.12);
  });

  it('is deterministic: same seed, same bytes; another seed, other rows', () => {
    expect(datasetFingerprint(CREDIT_SPEC, generateCredit().rows)).toBe(
      datasetFingerprint(CREDIT_SPEC, data.rows),
    );
    expect(generateCredit({ rows: 50, seed: 1 }).rows).not.toEqual(
      generateCredit({ rows: 50, seed: 2 }).rows,
    );
  });

  it('respects its own spec: the data-quality gate passes without a finding', () => {
    const { report } = checkDataQuality(CREDIT_SPEC, datasetAsTable(data));
    expect(report.findings).toEqual([]);
    expect(report.passed).toBe(true);
  });

  it('has the documented correlations', () => {
    const rows = data.rows;
    const by = (predicate: (f: (typeof rows)[number]['features']) => boolean) =>
      share(rows.filter((r) => predicate(r.features)));
    expect(by((f) => Number(f.late_payments) >= 2)).toBeGreaterThan(2 * by((f) => f.late_payments === 0));
    expect(by((f) => f.employment_type === 'unemployed')).toBeGreaterThan(
      by((f) => f.employment_type === 'salaried'),
    );
    expect(by((f) => Number(f.debt_ratio) > 0.6)).toBeGreaterThan(by((f) => Number(f.debt_ratio) < 0.3));
    const retired = rows.filter((r) => r.features.employment_type === 'retired');
    expect(Math.min(...retired.map((r) => Number(r.features.age)))).toBeGreaterThan(55);
    for (const row of rows.slice(0, 500)) {
      expect(Number(row.features.credit_history_years)).toBeLessThanOrEqual(Number(row.features.age) - 18);
    }
  });
});

describe('iris', () => {
  it('is the 150-row classic with 50 rows per species', () => {
    const { rows } = loadIris();
    expect(rows).toHaveLength(150);
    expect(rows[0]).toEqual({
      features: { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 },
      label: 'setosa',
    });
    expect(rows.filter((r) => r.label === 'virginica')).toHaveLength(50);
  });
});
