import { SeededRandom } from './random';

describe('SeededRandom (mulberry32)', () => {
  it('matches the reference mulberry32 sequence for seed 1', () => {
    const random = new SeededRandom(1);
    expect([random.next(), random.next(), random.next()]).toEqual([
      0.6270739405881613, 0.002735721180215478, 0.5274470399599522,
    ]);
  });

  it('same seed ⇒ same draws, other seed ⇒ other draws', () => {
    const draw = (seed: number) => {
      const random = new SeededRandom(seed);
      return [random.normal(), random.poisson(2), random.choice(['a', 'b', 'c'], [1, 2, 3]), random.next()];
    };
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
  });

  it('normal draws have about the requested mean and spread', () => {
    const random = new SeededRandom(7);
    const values = Array.from({ length: 20_000 }, () => random.normal(10, 2));
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const std = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
    expect(mean).toBeCloseTo(10, 1);
    expect(std).toBeCloseTo(2, 1);
  });

  it('shuffle is a permutation', () => {
    const items = Array.from({ length: 50 }, (_, i) => i);
    const shuffled = new SeededRandom(3).shuffle([...items]);
    expect(shuffled).not.toEqual(items);
    expect([...shuffled].sort((a, b) => a - b)).toEqual(items);
  });
});
