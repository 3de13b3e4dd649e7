import { AppError } from '../common/errors';
import { parseShift, resolveShiftFeatures, sampleRows, shiftRow } from './traffic-simulator';

describe('traffic simulator helpers', () => {
  it('parses --shift values, repeated or comma-separated', () => {
    expect(parseShift(['income=-0.3', 'age=0.1,debt_ratio=+0.5'])).toEqual({
      income: -0.3,
      age: 0.1,
      debt_ratio: 0.5,
    });
    expect(() => parseShift(['income'])).toThrow(AppError);
    expect(() => parseShift(['income=-1'])).toThrow('must be > -1');
  });

  it('resolves a feature alias when it is unambiguous', () => {
    const features = ['annual_income', 'age', 'loan_amount', 'loan_term_months'];
    expect(resolveShiftFeatures({ income: -0.3, age: 0.1 }, features)).toEqual({
      annual_income: -0.3,
      age: 0.1,
    });
    expect(() => resolveShiftFeatures({ loan: 1 }, features)).toThrow('ambiguous');
    expect(() => resolveShiftFeatures({ salary: 1 }, features)).toThrow('no such feature');
  });

  it('shifts numeric features relatively and refuses categorical ones', () => {
    expect(shiftRow({ annual_income: 50_000, housing: 'own' }, { annual_income: -0.3 })).toEqual({
      annual_income: 35_000,
      housing: 'own',
    });
    expect(() => shiftRow({ housing: 'own' }, { housing: 0.1 })).toThrow('not a numeric feature');
  });

  it('samples deterministic rows from the generators', () => {
    expect(sampleRows('credit', 5, 1)).toEqual(sampleRows('credit', 5, 1));
    expect(sampleRows('iris', 3, 2)).toHaveLength(3);
    expect(() => sampleRows('titanic', 1, 1)).toThrow('No data generator');
  });
});
