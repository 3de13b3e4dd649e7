import { aliasProblem, modelNameProblem, transitionProblem } from './stages';

describe('transitionProblem', () => {
  it.each([
    ['None', 'Staging', null],
    ['None', 'Production', null],
    ['Staging', 'Production', null],
    ['Production', 'Archived', null],
    ['Archived', 'Production', null],
    ['Production', 'None', 'cannot go from Production to None (allowed: Staging, Archived)'],
    ['Archived', 'None', 'cannot go from Archived to None (allowed: Staging, Production)'],
    ['Staging', 'Staging', 'is already in stage Staging'],
  ] as const)('%s → %s', (from, to, problem) => {
    expect(transitionProblem(from, to)).toBe(problem);
  });
});

describe('names', () => {
  it.each([
    ['champion', true],
    ['challenger-2', true],
    ['2', false],
    ['Champion', false],
    ['', false],
  ])('alias %p valid=%p', (alias, valid) => {
    expect(aliasProblem(alias) === null).toBe(valid);
  });

  it.each([
    ['credit', true],
    ['iris.v2_b-1', true],
    ['../etc', false],
    ['a b', false],
  ])('model name %p valid=%p', (name, valid) => {
    expect(modelNameProblem(name) === null).toBe(valid);
  });
});
