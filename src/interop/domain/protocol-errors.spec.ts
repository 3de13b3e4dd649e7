import {
  errorText,
  mlflowError,
  mlflowErrorCode,
  openInferenceError,
  parseEnvelope,
  renameRowField,
} from './protocol-errors';

describe('renameRowField', () => {
  it.each([
    ['instances[3].age', 'tensor', 'age[3]'],
    ['instances[3].age', 'dataframe', 'age (row 3)'],
    ['instances[0].a.b', 'tensor', 'a.b[0]'],
    ['age.datatype', 'tensor', 'age.datatype'],
    ['instances', 'dataframe', 'instances'],
  ] as const)('%s in %s style is %s', (field, style, expected) => {
    expect(renameRowField(field, style)).toBe(expected);
  });
});

describe('errorText', () => {
  it('lists every field problem in one line', () => {
    const error = {
      code: 'INVALID_INPUT',
      message: 'Invalid input: 2 problem(s)',
      details: [
        { field: 'instances[1].age', problem: 'must be >= 18' },
        { field: 'housing.datatype', problem: 'is FP32 but the input is categorical' },
      ],
    };
    expect(errorText(error, 'tensor')).toBe(
      'Invalid input: age[1]: must be >= 18; housing.datatype: is FP32 but the input is categorical',
    );
  });

  it('writes a whole-body problem as its own sentence', () => {
    const error = {
      code: 'INVALID_INPUT',
      message: 'x',
      details: [{ field: 'body', problem: 'The input must be …' }],
    };
    expect(errorText(error, 'dataframe')).toBe('The input must be …');
  });

  it('keeps the message of other errors and of details that are not field problems', () => {
    expect(errorText({ code: 'MODEL_NOT_FOUND', message: 'Model "x" is not registered' }, 'tensor')).toBe(
      'Model "x" is not registered',
    );
    expect(errorText({ code: 'INVALID_INPUT', message: 'Bad', details: { x: 1 } }, 'tensor')).toBe('Bad');
    expect(errorText({ code: 'INVALID_INPUT', message: 'Bad', details: [] }, 'tensor')).toBe('Bad');
  });
});

describe('openInferenceError', () => {
  it('is the spec’s {"error": string}', () => {
    expect(openInferenceError({ code: 'MODEL_NOT_READY', message: 'Model "iris" is loading' })).toEqual({
      error: 'Model "iris" is loading',
    });
  });
});

describe('mlflowErrorCode', () => {
  it.each([
    [400, 'INVALID_INPUT', false, 'INVALID_PARAMETER_VALUE'],
    [400, 'INVALID_INPUT', true, 'BAD_REQUEST'],
    [400, 'OTHER', false, 'BAD_REQUEST'],
    [404, 'MODEL_NOT_FOUND', false, 'RESOURCE_DOES_NOT_EXIST'],
    [413, 'PAYLOAD_TOO_LARGE', false, 'REQUEST_LIMIT_EXCEEDED'],
    [415, 'UNSUPPORTED_MEDIA_TYPE', true, 'BAD_REQUEST'],
    [429, 'RATE_LIMITED', false, 'REQUEST_LIMIT_EXCEEDED'],
    [503, 'OVERLOADED', false, 'TEMPORARILY_UNAVAILABLE'],
    [500, 'INTERNAL', false, 'INTERNAL_ERROR'],
  ] as const)('%i %s (format error: %s) is %s', (status, code, requestFormat, expected) => {
    expect(mlflowErrorCode(status, code, requestFormat)).toBe(expected);
  });

  it('builds the {error_code, message} body with dataframe-style field names', () => {
    const error = {
      code: 'INVALID_INPUT',
      message: 'Invalid input: 1 problem(s)',
      details: [{ field: 'instances[0].petal_width', problem: 'must be a number' }],
    };
    expect(mlflowError(error, 400, false)).toEqual({
      error_code: 'INVALID_PARAMETER_VALUE',
      message: 'Invalid input: petal_width (row 0): must be a number',
    });
  });
});

describe('parseEnvelope', () => {
  it("reads Vigil's serialized error envelope", () => {
    expect(
      parseEnvelope('{"code":"INVALID_INPUT","message":"Body is not valid JSON","requestId":"r"}'),
    ).toEqual({
      code: 'INVALID_INPUT',
      message: 'Body is not valid JSON',
      details: undefined,
    });
  });

  it.each([
    ['a protocol body', '{"error":"x"}'],
    ['broken JSON', '{"code":'],
    ['a code without message', '{"code":"X"}'],
    ['text', 'Internal error'],
  ])('ignores %s', (_case, payload) => {
    expect(parseEnvelope(payload)).toBeUndefined();
  });
});
