import { parseFeedbackBody } from './feedback-input';

describe('parseFeedbackBody', () => {
  it.each([
    [
      'one item by prediction id',
      { predictionId: 'p-1', label: 'yes' },
      [{ predictionId: 'p-1', label: 'yes' }],
    ],
    ['one item by request id', { requestId: 'r-1', label: 'no' }, [{ requestId: 'r-1', label: 'no' }]],
    ['a numeric label', { predictionId: 'p-1', label: 1 }, [{ predictionId: 'p-1', label: '1' }]],
    [
      'a batch',
      {
        feedback: [
          { predictionId: 'a', label: 'x' },
          { requestId: 'b', label: 'y' },
        ],
      },
      [
        { predictionId: 'a', label: 'x' },
        { requestId: 'b', label: 'y' },
      ],
    ],
  ])('reads %s', (_name, body, items) => {
    expect(parseFeedbackBody(body, 10)).toEqual({ items, problems: [] });
  });

  it.each([
    ['not an object', [1], 'body'],
    ['no label', { predictionId: 'p' }, 'label'],
    ['both ids', { predictionId: 'p', requestId: 'r', label: 'x' }, 'predictionId'],
    ['no id', { label: 'x' }, 'predictionId'],
    ['a bad id', { predictionId: 'has space', label: 'x' }, 'predictionId'],
    ['an unknown field', { predictionId: 'p', label: 'x', extra: 1 }, 'extra'],
    ['an empty batch', { feedback: [] }, 'feedback'],
    ['a batch that is not an array', { feedback: 'x' }, 'feedback'],
    ['a bad batch item', { feedback: [{ predictionId: 'p', label: 'x' }, 'oops'] }, 'feedback[1]'],
  ])('refuses %s', (_name, body, field) => {
    const { problems } = parseFeedbackBody(body, 10);
    expect(problems.map((problem) => problem.field)).toContain(field);
  });

  it('refuses a batch over the limit', () => {
    const feedback = Array.from({ length: 3 }, (_, index) => ({ predictionId: `p${index}`, label: 'x' }));
    expect(parseFeedbackBody({ feedback }, 2).problems).toEqual([
      { field: 'feedback', problem: 'must have at most 2 items, got 3' },
    ]);
  });
});
