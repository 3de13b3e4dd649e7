import { PredictAnswer } from './predict-answer';
import { PredictionBatch, type PredictionBatchFields } from './prediction-events';

function batch(overrides: Partial<PredictionBatchFields> = {}): PredictionBatch {
  return new PredictionBatch({
    batchId: '0193f-ab',
    requestId: 'req "1"',
    timestamp: 0,
    model: 'credit',
    version: 4,
    latencyMs: 1,
    inputs: [{ age: 1 }, { age: 2 }, { age: 3 }],
    labels: ['good', 'bad', 'good'],
    probabilities: new Float32Array([0.7, 0.3, 0.1, 0.9, 1, 0]),
    classCount: 2,
    ...overrides,
  });
}

const CLASSES = ['good', 'bad'];

describe('PredictAnswer', () => {
  it.each([
    ['several rows', batch()],
    ['one row', batch({ batchId: 'x-0', inputs: [{}], labels: ['bad'], probabilities: [0.25, 0.75] })],
    ['scores, one of them not a number', batch({ scores: [0.3, Number.NaN, 0] })],
    ['a label outside the class list', batch({ labels: ['good', 'odd "one"', 'bad'] })],
    ['probabilities JSON writes as null', batch({ probabilities: [Number.NaN, 1, Infinity, -0, 1e-9, 0.1] })],
  ])('writes the JSON that JSON.stringify writes of its objects: %s', (_, answerBatch) => {
    const answer = new PredictAnswer(answerBatch, CLASSES, undefined);
    expect(answer.json()).toBe(JSON.stringify(answer));
    expect(JSON.parse(answer.json())).toEqual(JSON.parse(JSON.stringify(answer.toJSON())));
  });

  it('answers each row with its id, label, probabilities by class, score and warnings', () => {
    const warning = { field: 'age', problem: 'is above the training range' };
    const answer = new PredictAnswer(batch({ scores: new Float32Array([0.3, 0.9, 0]) }), CLASSES, [
      undefined,
      [warning],
      undefined,
    ]);
    expect(JSON.parse(answer.json())).toEqual({
      model: 'credit',
      version: 4,
      requestId: 'req "1"',
      predictions: [
        { predictionId: '0193f-ab-0', label: 'good', probabilities: { good: 0.7, bad: 0.3 }, score: 0.3 },
        {
          predictionId: '0193f-ab-1',
          label: 'bad',
          probabilities: { good: 0.1, bad: 0.9 },
          score: 0.9,
          warnings: [warning],
        },
        { predictionId: '0193f-ab-2', label: 'good', probabilities: { good: 1, bad: 0 }, score: 0 },
      ].map((prediction) => ({
        ...prediction,
        // float32 values, as the model computed them
        probabilities: Object.fromEntries(
          Object.entries(prediction.probabilities).map(([name, p]) => [name, Math.fround(p)]),
        ),
        score: Math.fround(prediction.score),
      })),
    });
    expect(answer.json()).toBe(JSON.stringify(answer));
    expect(answer.predictions).toBe(answer.predictions); // built once for the protocol adapters
  });
});
