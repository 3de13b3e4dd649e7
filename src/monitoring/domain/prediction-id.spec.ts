import {
  type BatchableRecord,
  batchLength,
  predictionIdCandidates,
  predictionIdOf,
  resolvePredictionId,
} from './prediction-id';

const UUID = '0190a5b2-7c3d-7abc-8def-0123456789ab';

describe('predictionIdCandidates', () => {
  it.each([
    [`${UUID}-0`, [`${UUID}-0`, 0], [UUID, 0]],
    [`${UUID}-57`, [`${UUID}-57`, 0], [UUID, 57]],
    ['pred-12', ['pred-12', 0], ['pred', 12]],
    ['a-b-3', ['a-b-3', 0], ['a-b', 3]],
    ['pred-007', ['pred-007', 0], undefined], // not canonical: only the batch of one
    ['pred-', ['pred-', 0], undefined],
    ['-3', ['-3', 0], undefined], // no batch id before the dash
    ['pred-x', ['pred-x', 0], undefined],
    ['pred--1', ['pred--1', 0], ['pred-', 1]],
    ['plain', ['plain', 0], undefined],
    ['p-12345678901', ['p-12345678901', 0], undefined], // beyond any row count
  ] as [string, [string, number], [string, number] | undefined][])('%s', (id, self, parsed) => {
    const expected = [{ batchId: self[0], row: self[1] }];
    if (parsed) expected.push({ batchId: parsed[0], row: parsed[1] });
    expect(predictionIdCandidates(id)).toEqual(expected);
  });
});

describe('resolvePredictionId', () => {
  const batches = new Map([
    [UUID, 100],
    ['pred-5', 1],
    ['pred', 3],
    ['old-row', 1],
    ['p-0', 2], // a many-row batch is never named by its batch id alone
  ]);
  const rowCountOf = (batchId: string): number | undefined => batches.get(batchId);

  it.each([
    [`${UUID}-0`, { batchId: UUID, row: 0 }],
    [`${UUID}-99`, { batchId: UUID, row: 99 }],
    [`${UUID}-100`, undefined], // beyond the batch
    [UUID, undefined], // a 100-row batch by its own id
    ['pred-5', { batchId: 'pred-5', row: 0 }], // the batch of one wins over row 5 of "pred"
    ['pred-2', { batchId: 'pred', row: 2 }],
    ['pred-3', undefined],
    ['old-row', { batchId: 'old-row', row: 0 }],
    ['p-0', undefined],
    ['p-0-1', { batchId: 'p-0', row: 1 }],
    ['nothing-0', undefined],
  ])('%s', (id, expected) => {
    expect(resolvePredictionId(id, rowCountOf)).toEqual(expected);
  });
});

describe('predictionIdOf', () => {
  it.each([
    [UUID, 100, 57, `${UUID}-57`],
    [UUID, 2, 0, `${UUID}-0`],
    ['old-row', 1, 0, 'old-row'],
  ])('%s (%i rows) row %i → %s', (batchId, rowCount, row, expected) => {
    expect(predictionIdOf(batchId, rowCount, row)).toBe(expected);
  });

  it('names every row so that it resolves back to the same row', () => {
    for (const [batchId, rowCount] of [
      [UUID, 100],
      ['x-3', 1],
      ['x', 7],
    ] as const) {
      for (let row = 0; row < rowCount; row += 1) {
        const id = predictionIdOf(batchId, rowCount, row);
        expect(
          resolvePredictionId(id, (candidate) => (candidate === batchId ? rowCount : undefined)),
        ).toEqual({
          batchId,
          row,
        });
      }
    }
  });
});

describe('batchLength', () => {
  const record = (predictionId: string, overrides: Partial<BatchableRecord> = {}): BatchableRecord => ({
    predictionId,
    requestId: 'r',
    timestamp: 1,
    model: 'iris',
    version: 1,
    latencyMs: 1,
    ...overrides,
  });
  /** Lengths of the batches one after another. */
  const lengths = (records: BatchableRecord[]): number[] => {
    const out: number[] = [];
    for (let start = 0; start < records.length; start += out[out.length - 1]!)
      out.push(batchLength(records, start));
    return out;
  };

  it.each([
    ['one request', [record('p-0'), record('p-1'), record('p-2')], [3]],
    ['a 1-row request: a batch of one', [record('p-0')], [1]],
    [
      'two requests in a row',
      [record('p-0'), record('p-1'), record('q-0', { requestId: 's' }), record('q-1', { requestId: 's' })],
      [2, 2],
    ],
    ['a gap in the rows', [record('p-0'), record('p-2')], [1, 1]],
    ['not starting at row 0', [record('p-1'), record('p-2')], [1, 1]],
    ['arbitrary ids', [record('pred-1'), record('pred-2'), record('x')], [1, 1, 1]],
    ['another request id', [record('p-0'), record('p-1', { requestId: 'other' })], [1, 1]],
    ['another time', [record('p-0'), record('p-1', { timestamp: 2 })], [1, 1]],
    ['another version', [record('p-0'), record('p-1', { version: 2 })], [1, 1]],
    ['another latency', [record('p-0'), record('p-1', { latencyMs: 2 })], [1, 1]],
    ['another trace', [record('p-0', { traceId: 'a' }), record('p-1')], [1, 1]],
    ['"-0" alone', [record('-0'), record('-1')], [1, 1]],
    ['another prefix at the end', [record('p-0'), record('p-1'), record('q-2')], [2, 1]],
    [
      'a second run of the same request',
      [record('p-0'), record('p-1'), record('q-0'), record('q-1')],
      [2, 2],
    ],
    [
      'a row of another request inside',
      [record('p-0'), record('q-1', { requestId: 's' }), record('p-2')],
      [1, 1, 1],
    ],
    // Documented limit: ids inside a run are not read (see batchLength); the prediction service never
    // emits another prefix inside one request's records.
    ['another prefix inside, same request fields', [record('p-0'), record('q-1'), record('p-2')], [3]],
    ['rows 0-11', Array.from({ length: 12 }, (_, row) => record(`p-${row}`)), [12]],
  ] as [string, BatchableRecord[], number[]][])('%s', (_name, records, expected) => {
    expect(lengths(records)).toEqual(expected);
  });
});
