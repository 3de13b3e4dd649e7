import { InvalidInputError } from '../../common/errors';
import type { FeatureSpec, ModelSignature } from '../../common/signature';
import { makeSignature as signatureOf } from '../../../test/support/signatures';
import { inferResponse, modelMetadata, readInferRequest } from './open-inference';

const FEATURES: FeatureSpec[] = [
  {
    name: 'age',
    type: 'numeric',
    min: 18,
    integer: true,
    trainingMin: 21,
    trainingMax: 75,
    mean: 40,
    std: 10,
    example: 40,
  },
  { name: 'housing', type: 'categorical', categories: ['own', 'rent'], example: 'rent' },
];

const makeSignature = (overrides: Partial<ModelSignature> = {}): ModelSignature =>
  signatureOf(FEATURES, overrides);

const signature = makeSignature();
const age = (data: unknown, shape: unknown = [2, 1], datatype = 'FP32') => ({
  name: 'age',
  shape,
  datatype,
  data,
});
const housing = (data: unknown, shape: unknown = [2], datatype = 'BYTES') => ({
  name: 'housing',
  shape,
  datatype,
  data,
});

/** The problems `readInferRequest` throws for `body` (fails the test when it does not throw). */
function problemsOf(body: unknown): { field: string; problem: string }[] {
  try {
    readInferRequest(body, signature);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInputError);
    return (error as InvalidInputError).problems;
  }
  throw new Error('expected InvalidInputError');
}

describe('modelMetadata', () => {
  it('lists one [-1, 1] input per feature (FP32 numeric, BYTES categorical) and the two graph outputs', () => {
    expect(modelMetadata('credit', [1, 2], signature)).toEqual({
      name: 'credit',
      versions: ['1', '2'],
      platform: 'onnx_onnxv1',
      inputs: [
        { name: 'age', datatype: 'FP32', shape: [-1, 1] },
        { name: 'housing', datatype: 'BYTES', shape: [-1, 1] },
      ],
      outputs: [
        { name: 'label', datatype: 'BYTES', shape: [-1] },
        { name: 'probabilities', datatype: 'FP32', shape: [-1, 2] },
      ],
    });
  });
});

describe('readInferRequest', () => {
  it('turns one tensor per feature into rows, flat or nested, [N] or [N, 1]', () => {
    const request = readInferRequest(
      { id: '42', inputs: [housing(['own', 'rent']), age([[30], [41]])] },
      signature,
    );
    expect(request).toEqual({
      id: '42',
      instances: [
        { age: 30, housing: 'own' },
        { age: 41, housing: 'rent' },
      ],
      outputs: ['label', 'probabilities'],
    });
  });

  it('accepts every numeric datatype for a numeric feature', () => {
    for (const datatype of [
      'FP16',
      'FP32',
      'FP64',
      'INT8',
      'INT16',
      'INT32',
      'INT64',
      'UINT8',
      'UINT16',
      'UINT32',
      'UINT64',
    ]) {
      const request = readInferRequest(
        { inputs: [age([30, 41], [2], datatype), housing(['own', 'rent'])] },
        signature,
      );
      expect(request.instances.map((row) => row.age)).toEqual([30, 41]);
    }
  });

  it('keeps the requested outputs in request order, without duplicates, parameters allowed', () => {
    const request = readInferRequest(
      {
        parameters: { binary_data_output: false },
        inputs: [age([30], [1]), housing(['own'], [1, 1])],
        outputs: [
          { name: 'score' },
          { name: 'label', parameters: { binary_data: false } },
          { name: 'score' },
        ],
      },
      signature,
    );
    expect(request.outputs).toEqual(['score', 'label']);
    expect(request.id).toBeUndefined();
  });

  it.each<[string, unknown, { field: string; problem: string }[]]>([
    [
      'a body that is not an object',
      [1],
      [{ field: 'body', problem: 'must be a JSON object (an $inference_request)' }],
    ],
    ['no inputs', {}, [{ field: 'inputs', problem: 'is required' }]],
    ['inputs not an array', { inputs: {} }, [{ field: 'inputs', problem: 'must be an array' }]],
    [
      'an id that is not a string',
      { id: 42, inputs: [age([30], [1]), housing(['own'], [1])] },
      [{ field: 'id', problem: 'must be a string' }],
    ],
    [
      'a parameter that is not a scalar',
      { parameters: { x: [1] }, inputs: [age([30], [1]), housing(['own'], [1])] },
      [{ field: 'parameters.x', problem: 'must be a string, number or boolean' }],
    ],
    [
      'an unknown input',
      {
        inputs: [
          age([30], [1]),
          housing(['own'], [1]),
          { name: 'income', shape: [1], datatype: 'FP32', data: [1] },
        ],
      },
      [{ field: 'inputs[2]', problem: 'unknown input "income"; the model\'s inputs are: age, housing' }],
    ],
    [
      'a missing input',
      { inputs: [age([30], [1])] },
      [{ field: 'inputs', problem: 'missing input(s): housing' }],
    ],
    [
      'an input given twice',
      { inputs: [age([30], [1]), housing(['own'], [1]), age([31], [1])] },
      [{ field: 'age', problem: 'is given more than once' }],
    ],
    [
      'BYTES for a numeric feature',
      { inputs: [age(['30'], [1], 'BYTES'), housing(['own'], [1])] },
      [
        {
          field: 'age.datatype',
          problem: 'is BYTES but the input is numeric: use FP32 (or FP16, FP64, INT*, UINT*)',
        },
      ],
    ],
    [
      'FP32 for a categorical feature',
      { inputs: [age([30], [1]), housing([1], [1], 'FP32')] },
      [{ field: 'housing.datatype', problem: 'is FP32 but the input is categorical: use BYTES (strings)' }],
    ],
    [
      'BOOL for a numeric feature',
      { inputs: [age([true], [1], 'BOOL'), housing(['own'], [1])] },
      [
        {
          field: 'age.datatype',
          problem: 'is BOOL but the input is numeric: use FP32 (or FP16, FP64, INT*, UINT*)',
        },
      ],
    ],
    [
      'a datatype the spec does not define',
      { inputs: [age([30], [1], 'FLOAT'), housing(['own'], [1])] },
      [
        {
          field: 'age.datatype',
          problem:
            '"FLOAT" is not a tensor datatype (BOOL, UINT8, UINT16, UINT32, UINT64, INT8, INT16, INT32, INT64, FP16, FP32, FP64, BYTES)',
        },
      ],
    ],
    [
      'flat data longer than the shape',
      { inputs: [age([30, 41, 52], [2, 1]), housing(['own', 'rent'])] },
      [{ field: 'age.data', problem: 'has 3 element(s) but shape [2, 1] holds 2' }],
    ],
    [
      "flat data shorter than the shape (the spec example's [3] with one value)",
      { inputs: [age([30], [3]), housing(['own', 'rent', 'own'], [3])] },
      [{ field: 'age.data', problem: 'has 1 element(s) but shape [3] holds 3' }],
    ],
    [
      'nested data that does not match the shape',
      { inputs: [age([[30, 41]], [2, 1]), housing(['own', 'rent'])] },
      [{ field: 'age.data', problem: 'nested data does not match shape [2, 1]' }],
    ],
    [
      'a shape wider than one value per row',
      { inputs: [age([30, 41], [1, 2]), housing(['own'], [1])] },
      [{ field: 'age.shape', problem: 'is [1, 2]; this input takes [N] or [N, 1] (one value per row)' }],
    ],
    [
      'a negative dimension',
      { inputs: [age([30], [-1]), housing(['own'], [1])] },
      [{ field: 'age.shape', problem: 'dimensions must be non-negative integers' }],
    ],
    [
      'an empty batch',
      { inputs: [age([], [0]), housing([], [0])] },
      [
        { field: 'age.shape', problem: 'the batch size must be at least 1' },
        { field: 'housing.shape', problem: 'the batch size must be at least 1' },
      ],
    ],
    [
      'inputs with different batch sizes',
      { inputs: [age([30, 41]), housing(['own'], [1])] },
      [
        {
          field: 'housing',
          problem: 'has 1 row(s) but age has 2: every input must have the same batch size',
        },
      ],
    ],
    [
      'a string in FP32 data',
      { inputs: [age([30, 'x']), housing(['own', 'rent'])] },
      [{ field: 'age.data', problem: 'element 1 is a string; FP32 data must be numbers' }],
    ],
    [
      'null in FP32 data',
      { inputs: [age([null, 30]), housing(['own', 'rent'])] },
      [{ field: 'age.data', problem: 'element 0 is null; FP32 data must be numbers' }],
    ],
    [
      'a fraction in INT32 data',
      { inputs: [age([30, 41.5], [2], 'INT32'), housing(['own', 'rent'])] },
      [{ field: 'age.data', problem: 'element 1 (41.5) is not a valid INT32' }],
    ],
    [
      'a value out of UINT8 range',
      { inputs: [age([300], [1], 'UINT8'), housing(['own'], [1])] },
      [{ field: 'age.data', problem: 'element 0 (300) is not a valid UINT8' }],
    ],
    [
      'a number in BYTES data',
      { inputs: [age([30, 41]), housing(['own', 7])] },
      [{ field: 'housing.data', problem: 'element 1 is a number; BYTES data must be strings' }],
    ],
    [
      'binary tensor data',
      { inputs: [age([], [1], 'FP32'), { ...housing(['own'], [1]), parameters: { binary_data_size: 7 } }] },
      [
        { field: 'age.data', problem: 'has 0 element(s) but shape [1] holds 1' },
        {
          field: 'housing.parameters',
          problem: 'binary tensor data is not supported: send the data as JSON',
        },
      ],
    ],
    [
      'an input without a name',
      { inputs: [{ shape: [1], datatype: 'FP32', data: [1] }, age([30], [1]), housing(['own'], [1])] },
      [{ field: 'inputs[0].name', problem: 'is required (a string)' }],
    ],
    [
      'an input without shape, datatype or data',
      { inputs: [{ name: 'age' }, housing(['own'], [1])] },
      [
        { field: 'age.datatype', problem: 'is required (a string)' },
        { field: 'age.shape', problem: 'is required (an array of dimensions)' },
        { field: 'age.data', problem: 'is required (an array)' },
      ],
    ],
    [
      'an unknown output',
      { inputs: [age([30], [1]), housing(['own'], [1])], outputs: [{ name: 'output0' }] },
      [
        {
          field: 'outputs[0]',
          problem:
            'unknown output "output0"; this model\'s outputs are: label, probabilities, score, prediction_id',
        },
      ],
    ],
    [
      'outputs that are not objects with a name',
      { inputs: [age([30], [1]), housing(['own'], [1])], outputs: ['label'] },
      [{ field: 'outputs[0]', problem: 'must be an object with a "name" ($request_output)' }],
    ],
  ])('rejects %s, naming the field', (_case, body, expected) => {
    expect(problemsOf(body)).toEqual(expected);
  });

  it('reports problems of several inputs together', () => {
    const problems = problemsOf({
      inputs: [age(['x'], [1]), { name: 'nope', shape: [1], datatype: 'FP32', data: [1] }],
    });
    expect(problems.map((problem) => problem.field)).toEqual(['age.data', 'inputs[1]', 'inputs']);
  });

  it('offers no score output for a multiclass model', () => {
    const multiclass = makeSignature({ task: 'multiclass', positiveClass: undefined });
    expect(() =>
      readInferRequest(
        { inputs: [age([30], [1]), housing(['own'], [1])], outputs: [{ name: 'score' }] },
        multiclass,
      ),
    ).toThrow(InvalidInputError);
  });
});

describe('inferResponse', () => {
  const predictions = [
    { predictionId: 'p-0', label: 'no', probabilities: { no: 0.75, yes: 0.25 }, score: 0.25 },
    { predictionId: 'p-1', label: 'yes', probabilities: { no: 0.125, yes: 0.875 }, score: 0.875 },
  ];
  const model = { name: 'credit', version: 3, classes: ['no', 'yes'] };

  it('answers label [N] BYTES and probabilities [N, C] FP32, row-major flat', () => {
    expect(inferResponse(model, '42', ['label', 'probabilities'], predictions)).toEqual({
      model_name: 'credit',
      model_version: '3',
      id: '42',
      outputs: [
        { name: 'label', datatype: 'BYTES', shape: [2], data: ['no', 'yes'] },
        { name: 'probabilities', datatype: 'FP32', shape: [2, 2], data: [0.75, 0.25, 0.125, 0.875] },
      ],
    });
  });

  it('answers only the requested outputs, in request order, including the Vigil extras', () => {
    expect(inferResponse(model, 'r', ['prediction_id', 'score'], predictions).outputs).toEqual([
      { name: 'prediction_id', datatype: 'BYTES', shape: [2], data: ['p-0', 'p-1'] },
      { name: 'score', datatype: 'FP32', shape: [2], data: [0.25, 0.875] },
    ]);
  });
});
