import { InvalidInputError } from '../../common/errors';
import type { FeatureSpec } from '../../common/signature';
import { readScoringCsv, readScoringJson, ScoringRequestError, scoringResponse } from './mlflow-scoring';

const features: FeatureSpec[] = [
  { name: 'age', type: 'numeric', trainingMin: 21, trainingMax: 75, mean: 40, std: 10, example: 40 },
  { name: 'housing', type: 'categorical', categories: ['own', 'rent'], example: 'rent' },
];
const ROWS = [
  { age: 30, housing: 'own' },
  { age: 41, housing: 'rent' },
];

/** The error `read` throws (fails the test when it does not throw). */
function errorOf(read: () => unknown): InvalidInputError {
  try {
    read();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInputError);
    return error as InvalidInputError;
  }
  throw new Error('expected InvalidInputError');
}

describe('readScoringJson', () => {
  it.each<[string, unknown]>([
    [
      'dataframe_split',
      {
        dataframe_split: {
          columns: ['age', 'housing'],
          data: [
            [30, 'own'],
            [41, 'rent'],
          ],
        },
      },
    ],
    [
      'dataframe_split with an index (ignored)',
      {
        dataframe_split: {
          index: [7, 8],
          columns: ['housing', 'age'],
          data: [
            ['own', 30],
            ['rent', 41],
          ],
        },
      },
    ],
    ['dataframe_records', { dataframe_records: ROWS }],
    ['instances as records', { instances: ROWS }],
    [
      'instances as arrays in feature order',
      {
        instances: [
          [30, 'own'],
          [41, 'rent'],
        ],
      },
    ],
    ['inputs as columns (TF-serving columnar)', { inputs: { age: [30, 41], housing: ['own', 'rent'] } }],
    ['inputs as records', { inputs: ROWS }],
    [
      'an unknown extra key next to the format (ignored, as MLflow does)',
      { dataframe_records: ROWS, extra: 1 },
    ],
  ])('reads %s into rows', (_case, body) => {
    expect(readScoringJson(body, features)).toEqual({ rows: ROWS, output: 'label' });
  });

  it.each([['label'], ['probabilities'], ['full']] as const)('reads params.output = %s', (output) => {
    expect(readScoringJson({ instances: ROWS, params: { output } }, features).output).toBe(output);
  });

  it('leaves value checks to the prediction validator (unknown columns and wrong types pass through)', () => {
    expect(readScoringJson({ dataframe_records: [{ age: 'x', zip: 1 }] }, features).rows).toEqual([
      { age: 'x', zip: 1 },
    ]);
  });

  it.each<[string, unknown, string, string]>([
    [
      'no format key',
      { data: [] },
      'body',
      "The input must be a JSON dictionary with exactly one of the input fields 'dataframe_split', 'dataframe_records', 'instances', 'inputs'. Received dictionary with input fields: ['data']",
    ],
    [
      'two format keys',
      { instances: ROWS, inputs: ROWS },
      'body',
      "The input must be a JSON dictionary with exactly one of the input fields 'dataframe_split', 'dataframe_records', 'instances', 'inputs'. Received dictionary with input fields: ['instances', 'inputs']",
    ],
    [
      'a list body (MLflow 1 style)',
      [ROWS],
      'body',
      "The input must be a JSON dictionary with exactly one of the input fields 'dataframe_split', 'dataframe_records', 'instances', 'inputs'. Received a list",
    ],
    [
      'MLflow 1 pandas-split body without the dataframe_split key',
      { columns: ['age'], data: [[1]] },
      'body',
      "The input must be a JSON dictionary with exactly one of the input fields 'dataframe_split', 'dataframe_records', 'instances', 'inputs'. Received dictionary with input fields: ['columns', 'data']",
    ],
    [
      'dataframe_split that is not an object',
      { dataframe_split: [] },
      'dataframe_split',
      'must be an object with "columns" and "data" (pandas split orient)',
    ],
    [
      'dataframe_split with a short row',
      { dataframe_split: { columns: ['age', 'housing'], data: [[30]] } },
      'dataframe_split.data[0]',
      'must be an array of 2 value(s), one per column',
    ],
    [
      'dataframe_split without rows',
      { dataframe_split: { columns: ['age'], data: [] } },
      'dataframe_split.data',
      'must not be empty',
    ],
    [
      'dataframe_records that is not an array',
      { dataframe_records: ROWS[0] },
      'dataframe_records',
      'must be an array of rows',
    ],
    ['empty instances', { instances: [] }, 'instances', 'must not be empty'],
    [
      'a scalar row',
      { instances: [1] },
      'instances[0]',
      'must be an object (column → value) or an array of values',
    ],
    [
      'an array row of the wrong length',
      { instances: [[30]] },
      'instances[0]',
      'a row given as an array must have 2 value(s), in the order age, housing',
    ],
    [
      'columns of different lengths',
      { inputs: { age: [30, 41], housing: ['own'] } },
      'inputs.housing',
      'has 1 value(s) but age has 2',
    ],
    [
      'a column that is not an array',
      { inputs: { age: 30 } },
      'inputs.age',
      'must be an array (one value per row)',
    ],
    ['params that are not an object', { instances: ROWS, params: 'x' }, 'params', 'must be an object'],
  ])('rejects %s as a malformed request (BAD_REQUEST)', (_case, body, field, problem) => {
    const error = errorOf(() => readScoringJson(body, features));
    expect(error).toBeInstanceOf(ScoringRequestError);
    expect(error.problems).toEqual([{ field, problem }]);
  });

  it('rejects dataframe_split without columns or data, naming both', () => {
    const error = errorOf(() => readScoringJson({ dataframe_split: {} }, features));
    expect(error.problems).toEqual([
      { field: 'dataframe_split.columns', problem: 'is required: an array of column names' },
      { field: 'dataframe_split.data', problem: 'is required: an array of rows' },
    ]);
  });

  it('rejects an unknown params.output as a bad parameter value (not a malformed request)', () => {
    const error = errorOf(() => readScoringJson({ instances: ROWS, params: { output: 'proba' } }, features));
    expect(error).not.toBeInstanceOf(ScoringRequestError);
    expect(error.problems).toEqual([
      { field: 'params.output', problem: 'must be one of: label, probabilities, full' },
    ]);
  });
});

describe('readScoringCsv', () => {
  it('reads a header and rows, numbers for numeric features, text for categorical ones', () => {
    expect(readScoringCsv('age,housing\r\n30,own\r\n41,rent\r\n', features)).toEqual({
      rows: ROWS,
      output: 'label',
    });
  });

  it("drops pandas' unnamed index column and unquotes RFC 4180 fields", () => {
    const csv = ',age,housing,note\n0,30,own,"a, ""quoted""\nnote"\n1,41,rent,x\n';
    expect(readScoringCsv(csv, features).rows).toEqual([
      { age: 30, housing: 'own', note: 'a, "quoted"\nnote' },
      { age: 41, housing: 'rent', note: 'x' },
    ]);
  });

  it('turns empty cells into null, NaN/inf into numbers, and keeps non-numeric text for the validator', () => {
    expect(readScoringCsv('age,housing\n,\nNaN,own\n-inf,own\n1e3,own\nabc,own\n', features).rows).toEqual([
      { age: null, housing: null },
      { age: Number.NaN, housing: 'own' },
      { age: Number.NEGATIVE_INFINITY, housing: 'own' },
      { age: 1000, housing: 'own' },
      { age: 'abc', housing: 'own' },
    ]);
  });

  it.each<[string, string, { field: string; problem: string }[]]>([
    [
      'an empty body',
      '',
      [{ field: 'body', problem: 'The CSV input must have a header line and at least one row' }],
    ],
    [
      'a header only',
      'age,housing\n',
      [{ field: 'body', problem: 'The CSV input must have a header line and at least one row' }],
    ],
    [
      'an unterminated quote',
      'age,housing\n30,"own\n',
      [
        {
          field: 'body',
          problem: 'Failed to parse input as CSV: CSV: unterminated quoted field at end of file',
        },
      ],
    ],
    [
      'rows of the wrong width',
      'age,housing\n30\n41,rent,x\n',
      [
        { field: 'line 2', problem: 'has 1 field(s) but the header has 2' },
        { field: 'line 3', problem: 'has 3 field(s) but the header has 2' },
      ],
    ],
    [
      'an unnamed column after the first',
      'age,,housing\n30,1,own\n',
      [{ field: 'column 1', problem: 'has no name' }],
    ],
  ])('rejects %s as a malformed request', (_case, csv, problems) => {
    const error = errorOf(() => readScoringCsv(csv, features));
    expect(error).toBeInstanceOf(ScoringRequestError);
    expect(error.problems).toEqual(problems);
  });
});

describe('scoringResponse', () => {
  const predictions = [
    { predictionId: 'p-0', label: 'no', probabilities: { no: 0.75, yes: 0.25 }, score: 0.25 },
    { predictionId: 'p-1', label: 'yes', probabilities: { no: 0.125, yes: 0.875 }, score: 0.875 },
  ];

  it('answers labels by default (like scikit-learn predict)', () => {
    expect(scoringResponse('label', ['no', 'yes'], predictions)).toEqual({ predictions: ['no', 'yes'] });
  });

  it('answers probability rows in class order (like predict_proba)', () => {
    expect(scoringResponse('probabilities', ['no', 'yes'], predictions)).toEqual({
      predictions: [
        [0.75, 0.25],
        [0.125, 0.875],
      ],
    });
  });

  it("answers Vigil's prediction objects with full", () => {
    expect(scoringResponse('full', ['no', 'yes'], predictions)).toEqual({ predictions });
  });
});
