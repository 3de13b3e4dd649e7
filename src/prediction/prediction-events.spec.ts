import { PredictionEvents, type PredictionRecord } from './prediction-events';

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

describe('PredictionEvents', () => {
  it('delivers to every listener even when one throws', () => {
    const events = new PredictionEvents();
    const seen: string[] = [];
    events.subscribe(() => {
      throw new Error('broken consumer');
    });
    events.subscribe((records) => seen.push(...records.map((r) => r.predictionId)));
    events.emit([record(), record({ predictionId: 'p2' })]);
    expect(seen).toEqual(['p1', 'p2']);
  });

  it('stops delivering after unsubscribe', () => {
    const events = new PredictionEvents();
    const seen: number[] = [];
    const unsubscribe = events.subscribe((records) => seen.push(records.length));
    events.emit([record()]);
    unsubscribe();
    events.emit([record()]);
    expect(seen).toEqual([1]);
  });
});
