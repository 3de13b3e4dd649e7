import { InvalidInputError } from '../../common/errors';
import type { FeatureSpec, ModelSignature } from '../../common/signature';
import { makeSignature as signatureOf } from '../../../test/support/signatures';
import { allocateColumns } from '../../inference/column-buffers';
import { InputValidator, MAX_PROBLEMS, PayloadTooLargeError, readInstances } from './input-validator';

const FEATURES: FeatureSpec[] = [
  {
    name: 'age',
    type: 'numeric',
    min: 18,
    max: 120,
    integer: true,
    trainingMin: 21,
    trainingMax: 75,
    mean: 40,
    std: 10,
    example: 40,
  },
  {
    name: 'income',
    type: 'numeric',
    min: 0,
    trainingMin: 1000,
    trainingMax: 200000,
    mean: 50000,
    std: 20000,
    example: 52000,
  },
  { name: 'housing', type: 'categorical', categories: ['own', 'rent', 'free'], example: 'rent' },
];

const makeSignature = (overrides: Partial<ModelSignature> = {}): ModelSignature =>
  signatureOf(FEATURES, overrides);

const valid = { age: 30, income: 42000, housing: 'own' };
const signature = makeSignature();
const validator = new InputValidator(signature);

function check(rows: unknown[], flat = false, offset = 0) {
  const columns = allocateColumns(signature.features, offset + rows.length);
  return { columns, ...validator.checkRows(rows, columns, offset, flat) };
}

describe('InputValidator', () => {
  it('writes valid rows into the columns at the offset', () => {
    const result = check([valid, { age: 80, income: 0.5, housing: 'free' }], false, 3);
    expect(result.problems).toEqual([]);
    expect(Array.from(result.columns[0] as Float32Array)).toEqual([0, 0, 0, 30, 80]);
    expect((result.columns[1] as Float32Array)[4]).toBeCloseTo(0.5);
    expect((result.columns[2] as string[]).slice(3)).toEqual(['own', 'free']);
  });

  it('flags values outside the training range without rejecting them', () => {
    const result = check([valid, { age: 80, income: 500, housing: 'rent' }]);
    expect(result.problems).toEqual([]);
    expect(result.outOfRange).toEqual([undefined, [0, 1]]);
    expect(validator.rangeWarnings[0]).toEqual({ field: 'age', problem: 'outside training range [21, 75]' });
  });

  it('reports no out-of-range array when every value is inside', () => {
    expect(check([valid]).outOfRange).toBeUndefined();
  });

  it.each([
    ['missing feature', { age: 30, income: 1 }, 'instances[0].housing', 'is required'],
    ['unknown feature', { ...valid, colour: 'red' }, 'instances[0].colour', 'is not a feature of this model'],
    ['text for a number', { ...valid, age: '30' }, 'instances[0].age', 'must be a number'],
    ['boolean for a number', { ...valid, income: true }, 'instances[0].income', 'must be a number'],
    ['null', { ...valid, income: null }, 'instances[0].income', 'must not be null'],
    ['NaN', { ...valid, income: NaN }, 'instances[0].income', 'must be a finite number'],
    ['Infinity', { ...valid, income: Infinity }, 'instances[0].income', 'must be a finite number'],
    ['-Infinity', { ...valid, income: -Infinity }, 'instances[0].income', 'must be a finite number'],
    ['below the physical minimum', { ...valid, income: -1 }, 'instances[0].income', 'must be >= 0'],
    ['above the physical maximum', { ...valid, age: 121 }, 'instances[0].age', 'must be <= 120'],
    ['not an integer', { ...valid, age: 30.5 }, 'instances[0].age', 'must be an integer'],
    [
      'unknown category',
      { ...valid, housing: 'boat' },
      'instances[0].housing',
      'must be one of: own, rent, free',
    ],
    [
      'number for a category',
      { ...valid, housing: 1 },
      'instances[0].housing',
      'must be a string; must be one of: own, rent, free',
    ],
    ['null category', { ...valid, housing: null }, 'instances[0].housing', 'must not be null'],
    ['an array instead of an instance', [1, 2], 'instances[0]', 'must be a JSON object'],
    ['null instead of an instance', null, 'instances[0]', 'must be a JSON object'],
  ])('rejects %s', (_case, row, field, problem) => {
    expect(check([row]).problems).toEqual([{ field, problem }]);
  });

  it('names every bad field of every row', () => {
    const result = check([valid, { age: 'x', income: -5, extra: 1 }, { ...valid, housing: 'boat' }]);
    expect(result.problems).toEqual([
      { field: 'instances[1].age', problem: 'must be a number' },
      { field: 'instances[1].income', problem: 'must be >= 0' },
      { field: 'instances[1].housing', problem: 'is required' },
      { field: 'instances[1].extra', problem: 'is not a feature of this model' },
      { field: 'instances[2].housing', problem: 'must be one of: own, rent, free' },
    ]);
  });

  it('names fields without the instances prefix for a flat body', () => {
    expect(check([{ ...valid, age: null }], true).problems).toEqual([
      { field: 'age', problem: 'must not be null' },
    ]);
  });

  it('caps the list of problems and says how many were left out', () => {
    const rows = Array.from({ length: 150 }, () => ({ age: 'x', income: 'y' }));
    const { problems } = check(rows);
    expect(problems).toHaveLength(MAX_PROBLEMS + 1);
    expect(problems.at(-1)).toEqual({
      field: 'instances',
      problem: `${450 - MAX_PROBLEMS} more problem(s) not listed`,
    });
  });

  it('accepts any number when the signature declares no bounds', () => {
    const open = new InputValidator(
      makeSignature({
        features: [
          { name: 'x', type: 'numeric', trainingMin: 0, trainingMax: 1, mean: 0, std: 1, example: 0 },
        ],
      }),
    );
    const columns = [new Float32Array(1)];
    expect(open.checkRows([{ x: -1e30 }], columns, 0).problems).toEqual([]);
  });

  describe('compiled path', () => {
    const numeric = FEATURES[1]!;
    const odd = ['say "hi"', 'back\\slash', 'line\u2028break', "'); throw new Error('injected'); ('"];
    const oddSignature = signatureOf([
      ...odd.map((name) => ({ ...numeric, name })),
      { name: 'constructor', type: 'categorical', categories: ['a', 'b'], example: 'a' },
    ]);

    /** Rows within the physical limits, many with a value outside the training range. */
    function randomRows(count: number): Record<string, number | string>[] {
      let seed = 7;
      const next = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
      return Array.from({ length: count }, () => ({
        age: 18 + Math.floor(next() * 103),
        income: next() < 0.3 ? next() * 1000 : 1000 + next() * 199000,
        housing: ['own', 'rent', 'free'][Math.floor(next() * 3)]!,
      }));
    }

    it('writes and flags valid rows exactly as the detailed check does, without calling it', () => {
      const rows = randomRows(200);
      const detailed = jest.spyOn(validator, 'checkRowsInDetail');
      const fast = check(rows, false, 5);
      expect(detailed).not.toHaveBeenCalled();
      detailed.mockRestore();
      const columns = allocateColumns(signature.features, 205);
      const slow = validator.checkRowsInDetail(rows, columns, 5);
      expect(fast.problems).toEqual([]);
      expect(fast.outOfRange).toEqual(slow.outOfRange);
      expect(fast.outOfRange?.filter((flags) => flags !== undefined).length).toBeGreaterThan(40);
      expect(fast.columns.map((column) => [...column])).toEqual(columns.map((column) => [...column]));
    });

    it('hands a request with one bad row to the detailed check, which names it by its row', () => {
      const rows = [valid, valid, { ...valid, income: Infinity, zip: '75001' }];
      expect(check(rows).problems).toEqual([
        { field: 'instances[2].income', problem: 'must be a finite number' },
        { field: 'instances[2].zip', problem: 'is not a feature of this model' },
      ]);
      expect(check([valid, { ...valid, age: 30.5 }]).problems).toEqual([
        { field: 'instances[1].age', problem: 'must be an integer' },
      ]);
      expect(check([valid, { ...valid, housing: 'boat' }]).problems).toHaveLength(1);
    });

    it('reads feature names that are not identifiers as names, not as code', () => {
      const oddValidator = new InputValidator(oddSignature);
      const row: Record<string, unknown> = {
        ...Object.fromEntries(odd.map((name, index) => [name, index + 2000])),
        constructor: 'b',
      };
      const columns = allocateColumns(oddSignature.features, 1);
      const detailed = jest.spyOn(oddValidator, 'checkRowsInDetail');
      expect(oddValidator.checkRows([row], columns, 0).problems).toEqual([]);
      expect(detailed).not.toHaveBeenCalled();
      expect(columns.map((column) => column[0])).toEqual([2000, 2001, 2002, 2003, 'b']);
      // Without an own `constructor`, the row reads Object's: refused, and named by the detailed check.
      const { constructor: _dropped, ...withoutConstructor } = row;
      expect(oddValidator.checkRows([withoutConstructor], columns, 0).problems).toEqual([
        { field: 'instances[0].constructor', problem: 'must be a string; must be one of: a, b' },
      ]);
    });
  });
});

describe('readInstances', () => {
  it('returns the rows of a valid envelope', () => {
    expect(readInstances({ instances: [valid] }, 10)).toEqual([valid]);
  });

  it.each([
    ['not an object', 'text', [{ field: 'body', problem: 'must be a JSON object with "instances"' }]],
    ['an array', [valid], [{ field: 'body', problem: 'must be a JSON object with "instances"' }]],
    ['no instances', {}, [{ field: 'instances', problem: 'is required' }]],
    ['instances not an array', { instances: valid }, [{ field: 'instances', problem: 'must be an array' }]],
    ['empty instances', { instances: [] }, [{ field: 'instances', problem: 'must not be empty' }]],
    [
      'an unknown top-level field',
      { instances: [valid], extra: 1 },
      [{ field: 'extra', problem: 'is not allowed (only "instances")' }],
    ],
  ])('rejects %s with 400', (_case, body, details) => {
    let thrown: unknown;
    try {
      readInstances(body, 10);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InvalidInputError);
    expect((thrown as InvalidInputError).status).toBe(400);
    expect((thrown as InvalidInputError).details).toEqual(details);
  });

  it('rejects more instances than the limit with 413', () => {
    expect(() => readInstances({ instances: [valid, valid, valid] }, 2)).toThrow(PayloadTooLargeError);
    expect(new PayloadTooLargeError(3, 2).status).toBe(413);
  });
});
