import type { ModuleRef } from '@nestjs/core';
import { makeConfig } from '../config/config';
import { PredictionBatch } from '../prediction/prediction-events';
import { EcsFormatter } from './ecs';
import type { LogPipeline } from './log-pipeline';
import type { AppLogger } from './logger';
import { PredictionLogListener } from './prediction-log.listener';
import { PrivacyPolicy } from './privacy';

/** The listener over a pipeline that keeps the lines it is given. */
function makeListener(privacy: Record<string, string>): { listener: PredictionLogListener; lines: string[] } {
  const lines: string[] = [];
  const pipeline = {
    formatter: new EcsFormatter({ name: 'vigil', version: '1.0.0', environment: 'test' }),
    write: (line: string) => void lines.push(line),
  } as unknown as LogPipeline;
  const config = makeConfig(privacy);
  const listener = new PredictionLogListener(
    config,
    pipeline,
    new PrivacyPolicy(config),
    {} as AppLogger,
    {} as ModuleRef,
  );
  return { listener, lines };
}

/** A two-row request whose instances text the prediction path kept. */
const batch = new PredictionBatch({
  batchId: 'b-1',
  requestId: 'r-1',
  timestamp: 0,
  model: 'credit',
  version: 1,
  latencyMs: 1,
  inputs: [
    { age: 42, name: 'Eve' },
    { age: 43, name: 'Bob' },
  ],
  labels: ['good', 'bad'],
  probabilities: [0.9, 0.1, 0.2, 0.8],
  classCount: 2,
  inputsJson: '[{"age": 42, "name": "Eve"}, {"age": 43, "name": "Bob"}]',
});

describe('PredictionLogListener', () => {
  it('logs a batch with the inputs cut from the request text when no privacy rule applies', () => {
    const { listener, lines } = makeListener({});
    listener.onPredictions(batch);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(
      '"prediction.inputs":[{"age": 42, "name": "Eve"}, {"age": 43, "name": "Bob"}]',
    );
  });

  it('never logs the request text of a batch when a privacy rule applies', () => {
    const { listener, lines } = makeListener({ PRIVACY_DROP_FIELDS: 'name' });
    listener.onPredictions(batch);
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain('Eve');
    expect(lines[0]).not.toContain('Bob');
    expect((JSON.parse(lines[0]!) as Record<string, unknown>)['prediction.inputs']).toEqual([
      { age: 42 },
      { age: 43 },
    ]);
  });
});
