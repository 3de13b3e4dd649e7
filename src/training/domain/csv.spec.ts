import { formatCsv, parseCsv, parseCsvRows } from './csv';

describe('CSV', () => {
  it.each([
    [
      'plain, LF',
      'a,b\n1,2\n',
      [
        ['a', 'b'],
        ['1', '2'],
      ],
    ],
    [
      'CRLF and no final newline',
      'a,b\r\n1,2',
      [
        ['a', 'b'],
        ['1', '2'],
      ],
    ],
    [
      'quoted comma, escaped quote, newline',
      'a,b\n"x,y","say ""hi""\nthere"\n',
      [
        ['a', 'b'],
        ['x,y', 'say "hi"\nthere'],
      ],
    ],
    [
      'empty cells and blank lines',
      'a,b,c\n\n1,,3\n,,\n',
      [
        ['a', 'b', 'c'],
        ['1', '', '3'],
        ['', '', ''],
      ],
    ],
    ['byte-order mark', '\uFEFFa\n1\n', [['a'], ['1']]],
  ])('%s', (_case, text, rows) => {
    expect(parseCsvRows(text)).toEqual(rows);
  });

  it('maps cells to trimmed header names; short rows get empty cells', () => {
    expect(parseCsv(' age , city\n30\n')).toEqual({
      columns: ['age', 'city'],
      records: [{ age: '30', city: '' }],
    });
  });

  it('rejects an empty file and an unterminated quote', () => {
    expect(() => parseCsv('')).toThrow('empty file');
    expect(() => parseCsv('a\n"oops\n')).toThrow('unterminated');
  });

  it('formatCsv round-trips through parseCsv', () => {
    const records = [
      { name: 'a,"b"', n: 1 },
      { name: 'line\nbreak', n: null },
    ];
    expect(parseCsv(formatCsv(['name', 'n'], records)).records).toEqual([
      { name: 'a,"b"', n: '1' },
      { name: 'line\nbreak', n: '' },
    ]);
  });
});
