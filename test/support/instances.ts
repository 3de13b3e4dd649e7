/** Valid instances of the committed demo models, shared by the end-to-end tests. */
export const IRIS = { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 };

/** A credit applicant inside every training range (nothing flagged), predicted "0" by models/credit. */
export const CREDIT = {
  age: 41,
  annual_income: 35800,
  employment_type: 'salaried',
  credit_history_years: 13.7,
  housing: 'own',
  loan_purpose: 'debt_consolidation',
  loan_amount: 10150,
  loan_term_months: 36,
  debt_ratio: 0.388,
  open_credit_lines: 4,
  late_payments: 0,
};

/** A promise and the function that resolves it (to hold model loading until a test releases it). */
export function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}
