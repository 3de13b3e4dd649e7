import { encodeLines } from './encode-lines';

const expected = (lines: readonly string[], prefix = ''): Buffer =>
  Buffer.from(lines.map((line) => `${prefix}${line}\n`).join(''));

describe('encodeLines', () => {
  it.each([
    ['ASCII lines', ['{"a":1}', '{"b":"two"}', '']],
    ['no lines', []],
    ['accents and symbols', ['{"message":"déjà vu → ok"}', '{"m":"ÿ"}']],
    ['characters of three and four bytes', ['{"m":"€ 数据"}', '{"m":"🚀🚀🚀"}', '{"m":"🚀"}']],
    ['a lone surrogate', ['{"m":"\ud800"}']],
  ])('writes the same bytes as joining and encoding: %s', (_name, lines) => {
    expect(encodeLines(lines).equals(expected(lines))).toBe(true);
    expect(encodeLines(lines, '{"create":{}}\n').equals(expected(lines, '{"create":{}}\n'))).toBe(true);
  });

  it('grows when wide characters fill the estimate', () => {
    const lines = Array.from({ length: 200 }, (_, index) => `${'数'.repeat(index)}${'🚀'.repeat(index % 7)}`);
    expect(encodeLines(lines, 'é').equals(expected(lines, 'é'))).toBe(true);
  });

  it("gives each line's end offset", () => {
    const ends: number[] = [];
    const bytes = encodeLines(['{"a":1}', 'é', '🚀'], 'p\n', ends);
    expect(ends).toEqual([10, 15, 22]);
    expect(bytes.toString('utf8', ends[0]! + 2, ends[1]! - 1)).toBe('é');
    expect(bytes.length).toBe(ends.at(-1));
  });
});
