import { PredictionBatch, PredictionEvents, type PredictionRecord } from './prediction-events';

const record = (overrides: Partial<PredictionRecord> = {}): PredictionRecord => ({
  predictionId: 'p1',
  requestId: 'r1',
  timestamp: 0,
  model: 'iris',
  version: 1,
  inputs: { sepal_length: 5.1 },
  label: 'setosa',
  probabilities: [0.9, 0.05, 0.05],
  latencyMs: 1,
  ...overrides,
});

/** The records of one request: ids `<prefix>-<row>`, as the prediction service names them. */
const request = (rows: number, overrides: Partial<PredictionRecord> = {}): PredictionRecord[] =>
  Array.from({ length: rows }, (_, row) => record({ predictionId: `q-${row}`, ...overrides }));

describe('PredictionEvents', () => {
  it('delivers to every listener even when one throws', () => {
    const events = new PredictionEvents();
    const seen: string[] = [];
    events.subscribe(() => {
      throw new Error('broken consumer');
    });
    events.subscribe((batch) => seen.push(batch.predictionId(0), batch.predictionId(1)));
    events.emit(PredictionBatch.fromRecords(request(2))[0]!);
    expect(seen).toEqual(['q-0', 'q-1']);
  });

  it('stops delivering after unsubscribe', () => {
    const events = new PredictionEvents();
    const seen: number[] = [];
    const unsubscribe = events.subscribe((batch) => seen.push(batch.rows));
    events.emit(PredictionBatch.fromRecords([record()])[0]!);
    unsubscribe();
    events.emit(PredictionBatch.fromRecords([record()])[0]!);
    expect(seen).toEqual([1]);
  });
});

describe('PredictionBatch', () => {
  it("groups records into their requests' batches and gives them back row by row", () => {
    const records = [
      ...request(3, { score: 0.05, outOfRange: ['sepal_length'] }),
      record({ predictionId: 'alone', traceId: 't' }),
    ];
    records[1] = { ...records[1]!, outOfRange: undefined };
    const batches = PredictionBatch.fromRecords(records, '[{"sepal_length":5.1}]');
    expect(batches.map((batch) => [batch.batchId, batch.rows])).toEqual([
      ['q', 3],
      ['alone', 1],
    ]);
    // The instances text belongs to a batch that is all of the records, and this one is not.
    expect(batches[0]!.inputsJson).toBeUndefined();
    expect([0, 1, 2].map((row) => batches[0]!.record(row))).toEqual(records.slice(0, 3));
    expect(batches[1]!.record(0)).toEqual(records[3]);
    expect(PredictionBatch.fromRecords(request(2), '[1,2]')[0]!.inputsJson).toBe('[1,2]');
  });

  it('formats each probability once, as JSON.stringify would', () => {
    const probabilities = [0.1 + 0.2, Number.NaN, 1, -0, 1e-7, Number.POSITIVE_INFINITY];
    const [batch] = PredictionBatch.fromRecords([
      record({ predictionId: 'b-0', probabilities: probabilities.slice(0, 3), score: Number.NaN }),
      record({ predictionId: 'b-1', probabilities: probabilities.slice(3), score: 1e-7 }),
    ]);
    expect(batch!.probabilitiesJson()).toBe(
      JSON.stringify([probabilities.slice(0, 3), probabilities.slice(3)]),
    );
    expect(batch!.probabilitiesJson(1)).toBe(JSON.stringify([probabilities.slice(0, 3)]));
    expect(batch!.rowProbabilitiesJson(1)).toBe(JSON.stringify(probabilities.slice(3)));
    expect(batch!.scoresJson()).toBe('[null,1e-7]');
    expect(batch!.probabilityTexts()).toBe(batch!.probabilityTexts());
  });

  it("writes scores as JSON.stringify would, sharing the text of the row's probability a score equals", () => {
    // Float32 columns, as the prediction service fills them: the score is the positive class's probability.
    const probabilities = Float32Array.from([0.1, 0.9, 0.7, 0.3, 0.5, 0.5, 0.2, 0.8]);
    const scores = Float32Array.from([0.9, 0.3, 0.123, Number.NaN]);
    const batch = new PredictionBatch({
      batchId: 's',
      requestId: 'r',
      timestamp: 0,
      model: 'credit',
      version: 1,
      latencyMs: 1,
      inputs: [{}, {}, {}, {}],
      labels: ['yes', 'no', 'no', 'yes'],
      probabilities,
      classCount: 2,
      scores,
    });
    const expected = JSON.stringify(Array.from(scores));
    expect(batch.scoresJson()).toBe(expected);
    expect(Array.from(scores, (_, row) => batch.scoreText(row))).toEqual(
      Array.from(scores, (score) => JSON.stringify(score)),
    );
    expect(batch.scoreText(0)).toBe(batch.probabilityTexts()[1]);
    expect(batch.scoreText(1)).toBe(batch.probabilityTexts()[3]);
    expect(batch.labelsJson()).toBe(JSON.stringify(['yes', 'no', 'no', 'yes']));
  });

  it('cuts a request to its first rows, and rewrites inputs, without the instances text', () => {
    const [batch] = PredictionBatch.fromRecords(request(3, { score: 0.05 }), '[{},{},{}]');
    const two = batch!.slice(2);
    expect([two.batchId, two.rows, two.inputsJson]).toEqual(['q', 2, undefined]);
    expect(two.record(1)).toEqual(batch!.record(1));
    // One row left is a batch of one, named by its prediction id.
    const one = batch!.slice(1);
    expect([one.batchId, one.predictionId(0)]).toEqual(['q-0', 'q-0']);
    const rewritten = batch!.withInputs(() => ({ hidden: 1 }));
    expect(rewritten.inputs).toEqual([{ hidden: 1 }, { hidden: 1 }, { hidden: 1 }]);
    expect(rewritten.inputsJson).toBeUndefined();
    expect(batch!.inputsJson).toBe('[{},{},{}]');
  });
});
