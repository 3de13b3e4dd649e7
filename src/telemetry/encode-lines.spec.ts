import { joinLines, LineEncoder } from './encode-lines';

const expected = (lines: readonly string[], prefix = ''): Buffer =>
  Buffer.from(lines.map((line) => `${prefix}${line}\n`).join(''));

describe('LineEncoder and joinLines', () => {
  it.each([
    ['ASCII lines', ['{"a":1}', '{"b":"two"}', '']],
    ['no lines', []],
    ['accents and symbols', ['{"message":"déjà vu → ok"}', '{"m":"ÿ"}']],
    ['characters of three and four bytes', ['{"m":"€ 数据"}', '{"m":"🚀🚀🚀"}', '{"m":"🚀"}']],
    ['a lone surrogate', ['{"m":"\ud800"}']],
  ])('write the same bytes as joining and encoding: %s', (_name, lines) => {
    const encoder = new LineEncoder();
    const encoded = lines.map((line) => encoder.encode(line));
    expect(joinLines(encoded).equals(expected(lines))).toBe(true);
    const prefix = Buffer.from('{"create":{}}\n');
    expect(joinLines(encoded, prefix).equals(expected(lines, '{"create":{}}\n'))).toBe(true);
  });

  it('starts a new slab when wide characters fill the estimate, and keeps the old views intact', () => {
    const encoder = new LineEncoder();
    const lines = Array.from(
      { length: 2000 },
      (_, index) => `${'数'.repeat(index % 40)}${'🚀'.repeat(index % 7)}`,
    );
    const encoded = lines.map((line) => encoder.encode(line));
    expect(new Set(encoded.map((bytes) => bytes.buffer)).size).toBeGreaterThan(1);
    expect(joinLines(encoded).equals(expected(lines))).toBe(true);
    // A line longer than a slab gets one of its own.
    const long = 'é'.repeat(70_000);
    expect(encoder.encode(long).toString('utf8')).toBe(`${long}\n`);
  });
});
