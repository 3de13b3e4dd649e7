import { EcsFormatter, isoTimestamp, PREDICTION_EVENT_MAX_INPUTS, redactText, redactValue } from './ecs';
import { PredictionBatch, type PredictionRecord } from '../prediction/prediction-events';

const formatter = new EcsFormatter({ name: 'vigil', version: '1.2.3', environment: 'test' });
/** The batch `records` form (one request's, or a batch of one). */
const batchOf = (records: PredictionRecord[]): PredictionBatch => {
  const batches = PredictionBatch.fromRecords(records);
  expect(batches).toHaveLength(1);
  return batches[0]!;
};
const parse = (line: string): Record<string, unknown> => JSON.parse(line) as Record<string, unknown>;

describe('EcsFormatter', () => {
  it('writes the base fields and the static service fields on every line', () => {
    const line = parse(formatter.line('warn', 'hello', { 'model.name': 'iris' }, Date.UTC(2026, 0, 2)));
    expect(line).toEqual({
      '@timestamp': '2026-01-02T00:00:00.000Z',
      'log.level': 'warn',
      message: 'hello',
      'model.name': 'iris',
      'service.name': 'vigil',
      'service.version': '1.2.3',
      'service.environment': 'test',
      'ecs.version': '8.11.0',
    });
  });

  it('never lets a caller override base fields, skips undefined, survives circular values', () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const line = parse(
      formatter.line('info', 'x', {
        'service.name': 'evil',
        'log.level': 'debug',
        gone: undefined,
        circular,
      }),
    );
    expect(line['service.name']).toBe('vigil');
    expect(line['log.level']).toBe('info');
    expect(line).not.toHaveProperty('gone');
    expect(typeof line.circular).toBe('string');
  });

  it('turns an `error` field into ECS error fields', () => {
    const line = parse(formatter.line('error', 'failed', { error: new TypeError('bad token=abc123') }));
    expect(line).toMatchObject({ 'error.type': 'TypeError', 'error.message': 'bad token=[REDACTED]' });
    expect(line['error.stack_trace']).toContain('TypeError');
  });

  it('redacts secret keys, bearer tokens and password assignments', () => {
    const line = parse(
      formatter.line('info', 'called with Bearer abc.def-ghi', {
        authorization: 'Basic dXNlcjpwYXNz',
        'http.request.headers': { 'x-api-key': 'k', accept: 'json' },
        note: 'password=hunter2&user=bob',
      }),
    );
    expect(line.message).toBe('called with Bearer [REDACTED]');
    expect(line.authorization).toBe('[REDACTED]');
    expect(line['http.request.headers']).toEqual({ 'x-api-key': '[REDACTED]', accept: 'json' });
    expect(line.note).toBe('password=[REDACTED]&user=bob');
  });

  it('escapes the path and cuts the query string off in the access line', () => {
    const line = parse(
      formatter.accessLine(
        'GET',
        '/a"b\\c?token=x',
        '/a',
        503,
        1500.4,
        'r-1',
        'f'.repeat(32),
        'e'.repeat(16),
      ),
    );
    expect(line).toMatchObject({
      'log.level': 'error',
      message: 'GET /a"b\\c 503',
      'url.path': '/a"b\\c',
      'http.route': '/a',
      'http.response.status_code': 503,
      'event.duration': 1500,
      'event.outcome': 'failure',
      'http.request.id': 'r-1',
      'trace.id': 'f'.repeat(32),
      'span.id': 'e'.repeat(16),
    });
    expect(JSON.stringify(line)).not.toContain('token');
  });

  it('writes a prediction event with the given inputs only', () => {
    const record: PredictionRecord = {
      predictionId: 'p-1',
      requestId: 'r-1',
      timestamp: Date.UTC(2026, 0, 1),
      model: 'credit',
      version: 3,
      inputs: { age: 30, name: 'Bob' },
      label: 'bad',
      probabilities: [0.25, 0.75],
      score: 0.75,
      latencyMs: 1.5,
    };
    const line = parse(formatter.predictionLine(batchOf([record]), { age: 30 }));
    expect(line).toMatchObject({
      '@timestamp': '2026-01-01T00:00:00.000Z',
      'event.action': 'prediction',
      'event.duration': 1_500_000,
      'model.name': 'credit',
      'model.version': '3',
      'prediction.id': 'p-1',
      'prediction.label': 'bad',
      'prediction.score': 0.75,
      'prediction.probabilities': [0.25, 0.75],
      'prediction.inputs': { age: 30 },
      'http.request.id': 'r-1',
    });
    expect(line).not.toHaveProperty('trace.id');
    expect(line).not.toHaveProperty('prediction.out_of_range');
  });

  it('writes one event for a request of several instances, per-instance fields as arrays', () => {
    const records: PredictionRecord[] = Array.from({ length: 12 }, (_, index) => ({
      predictionId: `p-${index}`,
      requestId: 'r-2',
      traceId: 'a'.repeat(32),
      timestamp: Date.UTC(2026, 0, 1),
      model: 'credit',
      version: 3,
      inputs: { age: index, name: 'Bob' },
      label: index % 2 === 0 ? 'good' : 'bad',
      probabilities: [1 - index / 16, index / 16],
      score: index / 16,
      latencyMs: 2,
      ...(index === 3 ? { outOfRange: ['age'] } : {}),
      ...(index === 5 ? { outOfRange: ['age', 'income'] } : {}),
    }));
    const line = parse(formatter.predictionBatchLine(batchOf(records), ({ age }) => ({ age: age! })));
    expect(line).toMatchObject({
      'event.action': 'prediction',
      'event.duration': 2_000_000,
      'model.name': 'credit',
      'model.version': '3',
      'prediction.count': 12,
      'prediction.id': records.map((record) => record.predictionId),
      'prediction.label': records.map((record) => record.label),
      'prediction.score': records.map((record) => record.score),
      'prediction.out_of_range': ['age', 'income'],
      'http.request.id': 'r-2',
      'trace.id': 'a'.repeat(32),
    });
    expect(line['prediction.inputs']).toEqual(
      Array.from({ length: PREDICTION_EVENT_MAX_INPUTS }, (_, index) => ({ age: index })),
    );
    expect(line['prediction.probabilities']).toEqual(
      records.slice(0, PREDICTION_EVENT_MAX_INPUTS).map((record) => record.probabilities),
    );
    expect(JSON.stringify(line)).not.toContain('Bob');
  });

  describe('inputs of a multi-instance event, with the request text kept', () => {
    const rows = Array.from({ length: 12 }, (_, index) => ({ age: index, income: 1.5 }));
    const batch = (inputsJson: string) =>
      new PredictionBatch({
        ...batchOf(
          rows.map((inputs, index) => ({
            predictionId: `q-${index}`,
            requestId: 'r-4',
            timestamp: 0,
            model: 'credit',
            version: 1,
            inputs,
            label: 'good',
            probabilities: [0.5, 0.5],
            latencyMs: 1,
          })),
        ),
        inputsJson,
      });
    const text = `[${rows.map((row) => `{"age": ${row.age}, "income": 1.50}`).join(', ')}]`;

    it('are the first rows of that text when no rewrite applies', () => {
      const line = formatter.predictionBatchLine(batch(text));
      expect(line).toContain(
        `"prediction.inputs":[${rows
          .slice(0, PREDICTION_EVENT_MAX_INPUTS)
          .map((row) => `{"age": ${row.age}, "income": 1.50}`)
          .join(', ')}]`,
      );
      expect(parse(line)['prediction.inputs']).toEqual(rows.slice(0, PREDICTION_EVENT_MAX_INPUTS));
    });

    it('are serialised again when a rewrite applies, or when the text has line breaks', () => {
      const rewritten = parse(formatter.predictionBatchLine(batch(text), ({ age }) => ({ age: age! })));
      expect(rewritten['prediction.inputs']).toEqual(
        rows.slice(0, PREDICTION_EVENT_MAX_INPUTS).map(({ age }) => ({ age })),
      );
      const line = formatter.predictionBatchLine(batch(text.replaceAll(', {', ',\n{')));
      expect(line).not.toMatch(/[\n\r]/);
      expect(line).toContain('"prediction.inputs":[{"age":0,"income":1.5},');
    });
  });

  it('leaves prediction.score out of a multi-instance event when the model is not binary', () => {
    const record: PredictionRecord = {
      predictionId: 'p-0',
      requestId: 'r-3',
      timestamp: 0,
      model: 'iris',
      version: 1,
      inputs: {},
      label: 'setosa',
      probabilities: [1, 0, 0],
      latencyMs: 1,
    };
    const line = parse(
      formatter.predictionBatchLine(batchOf([record, { ...record, predictionId: 'p-1' }]), (x) => x),
    );
    expect(line).not.toHaveProperty('prediction.score');
    expect(line).not.toHaveProperty('prediction.out_of_range');
    expect(line['prediction.probabilities']).toEqual([
      [1, 0, 0],
      [1, 0, 0],
    ]);
  });
});

describe('isoTimestamp', () => {
  it.each([
    0,
    5,
    50,
    999,
    1000,
    Date.UTC(2026, 10, 23, 23, 59, 59, 999),
    Date.UTC(2026, 10, 24, 0, 0, 0, 7),
    Date.UTC(2026, 10, 23, 12, 0, 0, 42) + 0.75, // a fraction is cut off, as by Date
    -1, // before 1970: the Date path
    Date.UTC(10_000, 0, 1), // six-digit year: the Date path
  ])('writes %s as Date#toISOString does', (ms) => {
    expect(isoTimestamp(ms)).toBe(new Date(ms).toISOString());
  });

  it('stays right when calls alternate between seconds and jump backwards (the cache is per second)', () => {
    const base = Date.UTC(2026, 10, 23, 10, 20, 30, 0);
    const times = [
      base + 999,
      base + 1000,
      base + 998,
      base + 2001,
      base + 1,
      base - 86_400_000 + 3,
      base + 999,
    ];
    for (const ms of times) expect(isoTimestamp(ms)).toBe(new Date(ms).toISOString());
  });

  it('throws for a time Date cannot write, as toISOString does', () => {
    expect(() => isoTimestamp(Number.NaN)).toThrow(RangeError);
  });
});

describe('redaction helpers', () => {
  it.each([
    ['no secret here', 'no secret here'],
    ['Authorization: Bearer eyJhbGciOi.x.y', 'Authorization: Bearer [REDACTED]'],
    ['api_key: "abc"', 'api_key: "[REDACTED]"'],
    ['token=abc&x=1', 'token=[REDACTED]&x=1'],
  ])('redactText(%j)', (input, expected) => {
    expect(redactText(input)).toBe(expected);
  });

  it('redacts nested secret keys in arrays and objects', () => {
    expect(redactValue([{ password: 'p', ok: 1 }])).toEqual([{ password: '[REDACTED]', ok: 1 }]);
  });
});
