import { LineEncoder } from './encode-lines';

describe('LineEncoder', () => {
  it.each([
    ['ASCII', '{"a":1}'],
    ['an empty line', ''],
    ['accents and symbols', '{"message":"déjà vu → ok"}'],
    ['characters of three and four bytes', '{"m":"€ 数据 🚀🚀🚀"}'],
    ['a lone surrogate', '{"m":"\ud800"}'],
  ])('writes the bytes of the line and a newline: %s', (_name, line) => {
    expect(new LineEncoder().encode(line).equals(Buffer.from(`${line}\n`))).toBe(true);
  });

  it('reuses its buffer, and grows it for a line that does not fit', () => {
    const encoder = new LineEncoder();
    const first = encoder.encode('{"a":1}');
    const second = encoder.encode('{"b":2}');
    expect(second.buffer).toBe(first.buffer);
    const long = 'é'.repeat(70_000);
    const encoded = encoder.encode(long);
    expect(encoded.toString('utf8')).toBe(`${long}\n`);
    expect(encoded.buffer).not.toBe(first.buffer);
    expect(encoder.encode('{"c":3}').buffer).toBe(encoded.buffer);
    // A line whose worst case passes 1 MiB is measured: a buffer of its size, not three times it.
    const huge = `${'a'.repeat(600_000)}€`;
    const hugeEncoded = encoder.encode(huge);
    expect(hugeEncoded.toString('utf8')).toBe(`${huge}\n`);
    expect(hugeEncoded.buffer.byteLength).toBeLessThan(1_300_000);
  });
});
