import { instancesJson, leadingElementsJson } from './instances-json';

describe('instancesJson', () => {
  it.each([
    ['compact', '{"instances":[{"a":1},{"a":2}]}', '[{"a":1},{"a":2}]'],
    [
      'whitespace everywhere',
      ' \n{ "instances" :\t[ {"a": 1} ,\r\n {"a":2} ] }\n ',
      '[ {"a": 1} ,\r\n {"a":2} ]',
    ],
    ['a byte-order mark', '\ufeff{"instances":[{"a":1}]}', '[{"a":1}]'],
    ['an escaped key', '{"\\u0069nstances":[{"a":1}]}', '[{"a":1}]'],
    [
      'strings holding brackets, braces, quotes and backslashes',
      '{"instances":[{"s":"]}\\"[{","t":"\\\\"},{"s":"\\\\\\"]"}]}',
      '[{"s":"]}\\"[{","t":"\\\\"},{"s":"\\\\\\"]"}]',
    ],
    [
      'nested arrays and objects',
      '{"instances":[{"a":[1,[2]],"b":{"c":[]}}]}',
      '[{"a":[1,[2]],"b":{"c":[]}}]',
    ],
    ['non-ASCII text', '{"instances":[{"city":"Zürich ✓"}]}', '[{"city":"Zürich ✓"}]'],
  ])('returns the array as sent: %s', (_case, body, expected) => {
    const text = instancesJson(body, false);
    expect(text).toBe(expected);
    expect(JSON.parse(text!)).toEqual(
      (JSON.parse(body.replace(/^\ufeff/, '')) as { instances: unknown }).instances,
    );
  });

  it.each([
    ['a duplicated key (JSON.parse keeps the last)', '{"instances":[{"a":1}],"instances":[{"a":2}]}'],
    ['a second member', '{"instances":[{"a":1}],"extra":1}'],
    ['a value that is not an array', '{"instances":{"a":1}}'],
    ['an array body', '[{"a":1}]'],
    ['an unclosed array', '{"instances":[{"a":1}'],
    ['an unclosed string', '{"instances":[{"a":"1}]}'],
    ['an empty body', ''],
  ])('gives undefined for %s', (_case, body) => {
    expect(instancesJson(body, false)).toBeUndefined();
  });

  describe('for a text JSON.parse accepted (`parsed`: the fast path)', () => {
    it.each([
      ['compact', '{"instances":[{"a":1},{"a":2}]}', '[{"a":1},{"a":2}]'],
      ['whitespace', ' {"instances" : [ {"a": 1} ,\n {"a":2} ]\n }\n', '[ {"a": 1} ,\n {"a":2} ]'],
      ['an escaped key', '{"\\u0069nstances":[{"a":1}]}', '[{"a":1}]'],
      // A `]` before the last one sends it to the scan, which gives the same text:
      ['a `]` in a string', '{"instances":[{"s":"]}"},{"s":"[{\\"]"}]}', '[{"s":"]}"},{"s":"[{\\"]"}]'],
      ['nested arrays', '{"instances":[{"a":[1,[2]]}]}', '[{"a":[1,[2]]}]'],
    ])('returns the array as sent: %s', (_case, body, expected) => {
      expect(instancesJson(body, false, true)).toBe(expected);
      expect(instancesJson(body, false)).toBe(expected);
    });

    it.each([
      ['a duplicated key', '{"instances":[{"a":1}],"instances":[{"a":2}]}'],
      ['a second member', '{"instances":[{"a":1}],"extra":[2]}'],
      ['a second member that is no array', '{"instances":[{"a":1}],"extra":1}'],
    ])('still gives undefined for %s', (_case, body) => {
      expect(instancesJson(body, false, true)).toBeUndefined();
    });

    it('does not scan the text it was told JSON.parse accepted (an unclosed string goes unseen)', () => {
      const invalid = '{"instances":[{"a":"1}]}';
      expect(instancesJson(invalid, false)).toBeUndefined();
      expect(instancesJson(invalid, false, true)).toBe('[{"a":"1}]');
    });
  });

  it('wraps a flat instance in an array, as sent', () => {
    const body = ' {"sepal_length": 5.1, "sepal_width":3.5}\n';
    expect(instancesJson(body, true)).toBe('[{"sepal_length": 5.1, "sepal_width":3.5}]');
    expect(instancesJson('\ufeff{"a":1}', true)).toBe('[{"a":1}]');
    expect(instancesJson('[1]', true)).toBeUndefined();
  });

  it('parses back to the same rows as the parsed body, for generated bodies', () => {
    let seed = 7;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const strings = ['', 'a"b', '\\', ']', '}', '{[', 'é', '\n', '"]}'];
    const value = (): unknown =>
      pick([
        () => random() * 1000 - 500,
        () => Math.floor(random() * 10),
        () => pick(strings),
        () => null,
        () => [random(), pick(strings)],
      ])();
    const space = (): string => pick(['', ' ', '\n', '\t', '  ']);
    for (let trial = 0; trial < 300; trial += 1) {
      const rows = Array.from({ length: 1 + Math.floor(random() * 5) }, () =>
        Object.fromEntries(
          Array.from({ length: 1 + Math.floor(random() * 4) }, (_, index) => [`f${index}`, value()]),
        ),
      );
      const body = `${space()}{${space()}"instances"${space()}:${space()}${JSON.stringify(rows, null, pick([0, 1, 2]))}${space()}}${space()}`;
      const text = instancesJson(body, false);
      expect(text).toBeDefined();
      expect(JSON.parse(text!)).toEqual(rows);
      expect(instancesJson(body, false, true)).toBe(text);
    }
  });
});

describe('leadingElementsJson', () => {
  const rows = [
    { a: 1, b: 'x,y' },
    { a: 2, b: 'say "}]" {[' },
    { a: 3, b: 'back\\slash\\' },
  ];

  it('cuts the first rows out of the text, formatting kept, and they parse to the same rows', () => {
    const text = JSON.stringify(rows);
    expect(JSON.parse(leadingElementsJson(text, 2)!)).toEqual(rows.slice(0, 2));
    expect(leadingElementsJson(text, 1)).toBe(`[${JSON.stringify(rows[0])}]`);
    expect(leadingElementsJson(text, 3)).toBe(text);
    expect(leadingElementsJson(text, 10)).toBe(text);
    expect(leadingElementsJson('[ {"a": 1.50} ,\t{"a":2} ]', 1)).toBe('[ {"a": 1.50}]');
    expect(leadingElementsJson('[ {"a": 1.50} ,\t{"a":2} ]', 2)).toBe('[ {"a": 1.50} ,\t{"a":2}]');
  });

  it('gives undefined for a line break in what it would return (a log line is one line)', () => {
    const pretty = JSON.stringify(rows, null, 2);
    expect(leadingElementsJson(pretty, 1)).toBeUndefined();
    expect(leadingElementsJson('[{"a":1},\r\n{"a":2}]', 2)).toBeUndefined();
    // A break after the rows it keeps does not matter.
    expect(leadingElementsJson('[{"a":1},\n{"a":2}]', 1)).toBe('[{"a":1}]');
  });

  it('gives undefined for anything but an array of objects of scalars', () => {
    expect(leadingElementsJson('{"a":1}', 1)).toBeUndefined();
    expect(leadingElementsJson('[1,2]', 1)).toBeUndefined();
    expect(leadingElementsJson('[]', 1)).toBeUndefined();
    expect(leadingElementsJson('[{"a":1', 1)).toBeUndefined();
    expect(leadingElementsJson('[{"a":[1]}]', 1)).toBeUndefined();
    expect(leadingElementsJson('[{"a":1},{"b":{"c":2}}]', 2)).toBeUndefined();
  });
});
