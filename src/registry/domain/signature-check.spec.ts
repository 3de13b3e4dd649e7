import type { ModelSignature } from '../../common/signature';
import { makeSignature } from '../../../test/support/signatures';
import { type GraphIO, graphProblems, signatureProblems } from './signature-check';

const signature: ModelSignature = makeSignature(
  [
    { name: 'age', type: 'numeric', trainingMin: 18, trainingMax: 90, mean: 40, std: 10, example: 40 },
    { name: 'job', type: 'categorical', categories: ['a', 'b'], example: 'a' },
  ],
  { name: 'm', target: 'y', positiveClass: undefined },
);

const graph = (overrides: Partial<GraphIO> = {}): GraphIO => ({
  inputs: [
    { name: 'age', isTensor: true, type: 'float32', shape: ['N', 1] },
    { name: 'job', isTensor: true, type: 'string', shape: ['N', 1] },
  ],
  outputs: [
    { name: 'label', isTensor: true, type: 'string', shape: ['N'] },
    { name: 'probabilities', isTensor: true, type: 'float32', shape: ['N', 2] },
  ],
  ...overrides,
});

describe('signatureProblems', () => {
  it('accepts a complete signature', () => {
    expect(signatureProblems(signature)).toEqual([]);
  });
  it('lists every problem at once', () => {
    const problems = signatureProblems({
      schemaVersion: 1,
      task: 'regression',
      features: [],
      classes: ['x'],
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        'signature.name must be a non-empty string',
        'signature.primaryMetric must be a non-empty string',
        'signature.task must be "binary" or "multiclass"',
        'signature.features must be a non-empty array',
        'signature.classes must list at least two class labels',
        'signature.inputs must be a non-empty array',
      ]),
    );
  });
  it('refuses a non-object', () => {
    expect(signatureProblems('{')).toEqual(['signature must be a JSON object']);
  });
});

describe('graphProblems', () => {
  it('accepts a matching graph', () => {
    expect(graphProblems(signature, graph())).toEqual([]);
  });
  it.each<[string, Partial<GraphIO>, string]>([
    [
      'a ZipMap output',
      {
        outputs: [
          { name: 'label', isTensor: true, type: 'string' },
          { name: 'probabilities', isTensor: false },
        ],
      },
      'graph output "probabilities" is not a tensor (a ZipMap?): ONNX Runtime for Node cannot return it; export with zipmap disabled',
    ],
    [
      'a type mismatch',
      {
        inputs: [
          { name: 'age', isTensor: true, type: 'float64' },
          { name: 'job', isTensor: true, type: 'string' },
        ],
      },
      'input "age" is float64 in the graph but float32 in the signature',
    ],
    [
      'a missing input',
      { inputs: [{ name: 'age', isTensor: true, type: 'float32' }] },
      'signature input "job" is not a graph input (graph has: age)',
    ],
    [
      'an extra graph input',
      { inputs: [...graph().inputs, { name: 'salary', isTensor: true, type: 'float32' }] },
      'graph input "salary" is missing from the signature',
    ],
    [
      'a class count mismatch',
      {
        outputs: [
          { name: 'label', isTensor: true, type: 'string' },
          { name: 'probabilities', isTensor: true, type: 'float32', shape: ['N', 3] },
        ],
      },
      'output "probabilities" has 3 columns but the signature lists 2 classes',
    ],
  ])('reports %s', (_, overrides, problem) => {
    expect(graphProblems(signature, graph(overrides))).toContain(problem);
  });
});
