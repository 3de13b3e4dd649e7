import { stratifiedSplit } from './split';

describe('stratifiedSplit', () => {
  const labels = [...new Array<number>(80).fill(0), ...new Array<number>(20).fill(1)];

  it('keeps class shares in every part and covers every row exactly once', () => {
    const split = stratifiedSplit(labels, 42, 0.2, 0.2);
    const count = (indices: number[], label: number) => indices.filter((i) => labels[i] === label).length;
    expect([count(split.test, 0), count(split.test, 1)]).toEqual([16, 4]);
    expect([count(split.validation, 0), count(split.validation, 1)]).toEqual([16, 4]);
    expect([count(split.train, 0), count(split.train, 1)]).toEqual([48, 12]);
    const all = [...split.train, ...split.validation, ...split.test].sort((a, b) => a - b);
    expect(all).toEqual(labels.map((_, i) => i));
  });

  it('is deterministic per seed and keeps row order inside each part', () => {
    expect(stratifiedSplit(labels, 42)).toEqual(stratifiedSplit(labels, 42));
    expect(stratifiedSplit(labels, 42).test).not.toEqual(stratifiedSplit(labels, 43).test);
    const { train } = stratifiedSplit(labels, 42);
    expect(train).toEqual([...train].sort((a, b) => a - b));
  });
});
