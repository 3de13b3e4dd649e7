import { PrivacyPolicy } from './privacy';

const policy = (drop: string[], hash: string[], salt?: string): PrivacyPolicy =>
  new PrivacyPolicy({ PRIVACY_DROP_FIELDS: drop, PRIVACY_HASH_FIELDS: hash, PRIVACY_HASH_SALT: salt });

describe('PrivacyPolicy', () => {
  it('returns the same object when nothing is configured', () => {
    const inputs = { age: 42, name: 'Bob' };
    expect(policy([], []).apply(inputs)).toBe(inputs);
  });

  it('drops and hashes listed fields without touching the input', () => {
    const inputs = { age: 42, name: 'Bob', income: 1000 };
    const out = policy(['name'], ['income'], 'pepper').apply(inputs);
    expect(out).toEqual({ age: 42, income: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(inputs).toEqual({ age: 42, name: 'Bob', income: 1000 });
  });

  it('hashes equal values equally, and differently under another salt', () => {
    const a = policy([], ['income'], 'one');
    expect(a.apply({ income: 1000 }).income).toBe(a.apply({ income: '1000' }).income);
    expect(a.apply({ income: 1000 }).income).not.toBe(a.apply({ income: 1001 }).income);
    expect(policy([], ['income'], 'two').apply({ income: 1000 }).income).not.toBe(
      a.apply({ income: 1000 }).income,
    );
  });

  it('drops a field listed both ways, and flags hashing without salt', () => {
    expect(policy(['ssn'], ['ssn']).apply({ ssn: '123', age: 1 })).toEqual({ age: 1 });
    expect(policy([], ['income']).unsalted).toBe(true);
    expect(policy([], ['income'], 'salt').unsalted).toBe(false);
    expect(policy(['name'], []).unsalted).toBe(false);
  });
});
