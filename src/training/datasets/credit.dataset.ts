import { type Dataset, type DatasetSpec, type LabelledRow } from '../domain/dataset-spec';
import { SeededRandom } from '../domain/random';

/**
 * A synthetic credit-scoring data set (binary target `default`: "1" = the loan defaulted).
 *
 * Generative process, per applicant (all draws from one seeded mulberry32 stream, in this order):
 * 1. `age` ~ Normal(41, 13) clipped to [18, 85], whole years.
 * 2. `employment_type`: mostly `retired` from 63 on; otherwise salaried 62 %, self-employed 13 %,
 *    part-time 13 %, unemployed 6 % (a few early retirements after 55).
 * 3. A latent financial-fragility factor z ~ Normal(0, 1), never published: it drives late payments,
 *    indebtedness and default, so the observed features are correlated through it and no model can
 *    be perfect (the irreducible noise keeps ROC AUC realistic, ~0.8).
 * 4. `annual_income` ~ LogNormal: median 48k, peaks around 50 years old, scaled by employment
 *    (part-time ×0.5, unemployed ×0.25, retired ×0.6, self-employed ×1.1 with more spread), lower for
 *    high z; rounded to 100.
 * 5. `credit_history_years`: a random share of the adult years (≤ age − 18), one decimal.
 * 6. `housing`: owners get more likely with age, mortgages with income, renting with youth and low
 *    income, living with family under 25.
 * 7. `loan_purpose` (fixed shares), then `loan_amount` ~ LogNormal around 35 % of income^0.6-ish,
 *    larger for home improvement / business / car, clipped to [500, 100 000], rounded to 50; and
 *    `loan_term_months` among 12…60, longer for larger loans.
 * 8. `debt_ratio` (monthly debt payments / monthly income, incl. the new loan) grows with z,
 *    mortgages and the new instalment relative to income; clipped to [0, 3], three decimals.
 * 9. `open_credit_lines` ~ Poisson(1 + history / 4 + 0.5·max(z, 0)); `late_payments` (last 24
 *    months) ~ Poisson(exp(−1.3 + 0.9·z − 0.02·history)), capped at 30.
 * 10. P(default) = sigmoid(logit) with logit = −3.45 + 0.9·z + 0.3·min(late, 6) + 2.2·max(debt_ratio − 0.4, 0)
 *    − 0.45·ln(income / 48k) − 0.025·history + 0.55·[age < 25] + 0.0012·(age − 45)²
 *    + 1.5·max(loan_amount / income − 0.6, 0) + employment and purpose effects + an
 *    unemployed-renter interaction: non-linear on purpose, so that boosted trees have something to
 *    find that a linear model misses. The intercept gives a default rate of about 10 %.
 */
export const CREDIT_SPEC: DatasetSpec = {
  name: 'credit',
  description:
    'Synthetic credit-scoring applications (deterministic from a seed); target: default within 12 months.',
  features: [
    { name: 'age', type: 'numeric', description: 'Applicant age in years', min: 18, max: 100, integer: true },
    {
      name: 'annual_income',
      type: 'numeric',
      description: 'Gross annual income (USD)',
      min: 0,
      max: 5_000_000,
    },
    {
      name: 'employment_type',
      type: 'categorical',
      description: 'Employment situation',
      categories: ['salaried', 'self_employed', 'part_time', 'unemployed', 'retired'],
    },
    {
      name: 'credit_history_years',
      type: 'numeric',
      description: 'Years since the first credit line',
      min: 0,
      max: 82,
    },
    {
      name: 'housing',
      type: 'categorical',
      description: 'Housing situation',
      categories: ['own', 'mortgage', 'rent', 'family'],
    },
    {
      name: 'loan_purpose',
      type: 'categorical',
      description: 'Declared purpose of the loan',
      categories: [
        'debt_consolidation',
        'home_improvement',
        'car',
        'education',
        'medical',
        'business',
        'other',
      ],
    },
    { name: 'loan_amount', type: 'numeric', description: 'Requested amount (USD)', min: 100, max: 1_000_000 },
    {
      name: 'loan_term_months',
      type: 'numeric',
      description: 'Repayment period in months',
      min: 1,
      max: 360,
      integer: true,
    },
    {
      name: 'debt_ratio',
      type: 'numeric',
      description: 'Monthly debt payments / monthly income, including the new loan',
      min: 0,
      max: 10,
    },
    {
      name: 'open_credit_lines',
      type: 'numeric',
      description: 'Number of open credit lines',
      min: 0,
      max: 100,
      integer: true,
    },
    {
      name: 'late_payments',
      type: 'numeric',
      description: 'Payments more than 30 days late in the last 24 months',
      min: 0,
      max: 100,
      integer: true,
    },
  ],
  target: 'default',
  classes: ['0', '1'],
  positiveClass: '1',
  quality: { minRows: 1000, minClassRatio: 0.03 },
  primaryMetric: 'roc_auc',
  metricThresholds: { roc_auc: 0.75 },
};

export const CREDIT_DEFAULT_ROWS = 20_000;
export const CREDIT_DATA_SEED = 20_240_601;

const clamp = (value: number, min: number, max: number): number => Math.min(max, Math.max(min, value));
const roundTo = (value: number, step: number): number => Math.round(value / step) * step;
const round = (value: number, decimals: number): number => Number(value.toFixed(decimals));
const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

const PURPOSES = [
  'debt_consolidation',
  'home_improvement',
  'car',
  'education',
  'medical',
  'business',
  'other',
];
const PURPOSE_SHARES = [0.34, 0.14, 0.17, 0.08, 0.07, 0.08, 0.12];
const PURPOSE_AMOUNT = [1.0, 1.35, 1.25, 0.8, 0.6, 1.6, 0.7];
const PURPOSE_RISK: Record<string, number> = {
  debt_consolidation: 0.15,
  home_improvement: -0.2,
  car: -0.25,
  education: 0.1,
  medical: 0.35,
  business: 0.45,
  other: 0.05,
};
const EMPLOYMENT_INCOME: Record<string, number> = {
  salaried: 1,
  self_employed: 1.1,
  part_time: 0.5,
  unemployed: 0.25,
  retired: 0.6,
};
const EMPLOYMENT_RISK: Record<string, number> = {
  salaried: 0,
  self_employed: 0.3,
  part_time: 0.35,
  unemployed: 0.8,
  retired: 0.1,
};

function applicant(random: SeededRandom): LabelledRow {
  const age = Math.round(clamp(random.normal(41, 13), 18, 85));
  const employment =
    age >= 63
      ? random.choice(['retired', 'salaried', 'self_employed', 'part_time'], [0.75, 0.12, 0.08, 0.05])
      : random.choice(
          ['salaried', 'self_employed', 'part_time', 'unemployed', 'retired'],
          [0.62, 0.13, 0.13, 0.06, age > 55 ? 0.04 : 0],
        );
  const z = random.normal();

  const ageCurve = -(((age - 50) / 22) ** 2);
  const spread = employment === 'self_employed' ? 0.6 : 0.4;
  const logIncome =
    Math.log(48_000) +
    0.35 * ageCurve +
    Math.log(EMPLOYMENT_INCOME[employment] ?? 1) +
    random.normal(0, spread) -
    0.12 * z;
  const annualIncome = roundTo(clamp(Math.exp(logIncome), 0, 2_000_000), 100);

  const adultYears = age - 18;
  const history = round(clamp(adultYears * random.uniform(0.3, 1) + random.normal(0, 1), 0, adultYears), 1);

  const housing = random.choice(
    ['own', 'mortgage', 'rent', 'family'],
    [
      Math.exp(0.05 * (age - 45)),
      0.9 * Math.exp(0.6 * Math.log(Math.max(annualIncome, 5_000) / 48_000)) * (age < 70 ? 1 : 0.3),
      0.9 * Math.exp(-0.03 * (age - 30)) * Math.exp(-0.3 * Math.log(Math.max(annualIncome, 5_000) / 48_000)),
      age < 25 ? 0.8 : 0.05,
    ],
  );

  const purposeIndex = PURPOSES.indexOf(random.choice(PURPOSES, PURPOSE_SHARES));
  const purpose = PURPOSES[purposeIndex] as string;
  const amountMedian =
    12_000 * (PURPOSE_AMOUNT[purposeIndex] ?? 1) * Math.pow(Math.max(annualIncome, 8_000) / 48_000, 0.6);
  const loanAmount = roundTo(clamp(amountMedian * Math.exp(random.normal(0, 0.5)), 500, 100_000), 50);
  const term = random.choice(
    [12, 24, 36, 48, 60],
    loanAmount < 8_000 ? [4, 4, 2, 1, 0.5] : [0.5, 1, 3, 3, 3],
  );

  const monthlyIncome = Math.max(annualIncome, 3_000) / 12;
  const instalment = (loanAmount * (1 + 0.006 * term)) / term;
  const existingDebt = Math.max(
    0,
    0.2 + 0.1 * z + (housing === 'mortgage' ? 0.1 : housing === 'rent' ? 0.04 : 0) + random.normal(0, 0.08),
  );
  const debtRatio = round(clamp(existingDebt + instalment / monthlyIncome, 0, 3), 3);

  const openLines = Math.min(40, random.poisson(1 + history / 4 + 0.5 * Math.max(z, 0)));
  const latePayments = Math.min(30, random.poisson(Math.exp(-1.3 + 0.9 * z - 0.02 * history)));

  const logit =
    -3.45 +
    0.9 * z +
    0.3 * Math.min(latePayments, 6) +
    2.2 * Math.max(debtRatio - 0.4, 0) -
    0.45 * Math.log(Math.max(annualIncome, 3_000) / 48_000) -
    0.025 * history +
    (age < 25 ? 0.55 : 0) +
    (EMPLOYMENT_RISK[employment] ?? 0) +
    (PURPOSE_RISK[purpose] ?? 0) +
    (employment === 'unemployed' && housing === 'rent' ? 0.6 : 0) +
    // U-shaped in age, and a loan that is large for the income: the non-linear part.
    0.0012 * (age - 45) ** 2 +
    1.5 * Math.max(0, loanAmount / Math.max(annualIncome, 3_000) - 0.6);
  const defaulted = random.bernoulli(sigmoid(logit));

  return {
    features: {
      age,
      annual_income: annualIncome,
      employment_type: employment,
      credit_history_years: history,
      housing,
      loan_purpose: purpose,
      loan_amount: loanAmount,
      loan_term_months: term,
      debt_ratio: debtRatio,
      open_credit_lines: openLines,
      late_payments: latePayments,
    },
    label: defaulted ? '1' : '0',
  };
}

export function generateCredit(options: { rows?: number; seed?: number } = {}): Dataset {
  const random = new SeededRandom(options.seed ?? CREDIT_DATA_SEED);
  const count = options.rows ?? CREDIT_DEFAULT_ROWS;
  const rows = Array.from({ length: count }, () => applicant(random));
  return { spec: CREDIT_SPEC, rows };
}
