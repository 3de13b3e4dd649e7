import { AppError, ERROR_CODES, InvalidInputError, ModelNotReadyError, OverloadedError } from './errors';

describe('AppError', () => {
  it.each([
    ['INVALID_INPUT', 400],
    ['UNAUTHENTICATED', 401],
    ['FORBIDDEN', 403],
    ['MODEL_NOT_FOUND', 404],
    ['PROMOTION_REFUSED', 409],
    ['PAYLOAD_TOO_LARGE', 413],
    ['OVERLOADED', 503],
  ] as const)('maps %s to HTTP %i', (code, status) => {
    expect(new AppError(code, 'x').status).toBe(status);
    expect(ERROR_CODES[code]).toBe(status);
  });

  it('carries field problems as details', () => {
    const error = new InvalidInputError([{ field: 'age', problem: 'is required' }]);
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.details).toEqual([{ field: 'age', problem: 'is required' }]);
  });

  it('asks clients to retry on transient refusals', () => {
    expect(new OverloadedError('queue').retryAfterSeconds).toBe(1);
    expect(new ModelNotReadyError('iris').retryAfterSeconds).toBe(1);
  });
});
