import { runInNewContext } from 'node:vm';
import { READ_SQL_VALUES_SOURCE } from '../monitoring/sqlite-prediction.writer';
import type { SqlValue } from './sql-database';
import { readSqlValues, SqlValueBuffer } from './sql-value-buffer';

/** The worker thread's copy of `readSqlValues`, evaluated as the worker does (plain JavaScript). */
const workerRead = runInNewContext(`${READ_SQL_VALUES_SOURCE}; readSqlValues`, { Buffer }) as (
  bytes: Uint8Array,
) => SqlValue[];

const SAMPLE: SqlValue[] = [
  '01a209d0-096c-7355-9826-6350ba7f4ace-0',
  null,
  1_795_460_958_572,
  1,
  -0.000_123_4,
  0.275_279_391_798_150_64,
  Number.MAX_SAFE_INTEGER,
  '',
  '[{"sepal_length":5.1,"city":"Zürich"}]',
  'emoji 🧪 and CJK 漢字',
  '\u0000 and a lone surrogate \ud800',
];

describe('SqlValueBuffer / readSqlValues', () => {
  it('reads back every value in order, in the main thread and in the worker copy', () => {
    const values = new SqlValueBuffer();
    values.append(SAMPLE);
    values.append(['second append', null]);
    const expected = [...SAMPLE, 'second append', null];
    // A lone surrogate is not UTF-8: it comes back as U+FFFD, as from any UTF-8 text column.
    expected[10] = '\u0000 and a lone surrogate \ufffd';
    expect(readSqlValues(values.bytes())).toEqual(expected);
    expect(workerRead(values.bytes())).toEqual(expected);
  });

  it('grows past its initial size, including for a text longer than the buffer', () => {
    const values = new SqlValueBuffer(8);
    const long = 'é'.repeat(10_000);
    const items: SqlValue[] = [];
    for (let index = 0; index < 500; index += 1) items.push(`row ${index}`, index * 1.5, null);
    values.append(items);
    values.append([long]);
    expect(readSqlValues(values.bytes())).toEqual([...items, long]);
    expect(values.byteLength).toBe(values.bytes().byteLength);
  });

  it('keeps shared bytes in a SharedArrayBuffer as it grows, and its memory when cleared', () => {
    const values = new SqlValueBuffer(8, true);
    values.append(['a text longer than eight bytes', 1]);
    expect(values.bytes().buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(workerRead(values.bytes())).toEqual(['a text longer than eight bytes', 1]);
    const capacity = values.capacity;
    values.clear();
    expect(values.byteLength).toBe(0);
    values.append(['again']);
    expect(values.capacity).toBe(capacity);
    expect(readSqlValues(values.bytes())).toEqual(['again']);
    expect(new SqlValueBuffer().bytes().buffer).not.toBeInstanceOf(SharedArrayBuffer);
  });

  it('refuses what it cannot hold, and bytes that are not its own', () => {
    expect(() => new SqlValueBuffer().append([true])).toThrow(/text, numbers and null, not boolean/);
    expect(() => readSqlValues(Uint8Array.of(7))).toThrow(/corrupt SQL value buffer: tag 7 at byte 0/);
    expect(() => workerRead(Uint8Array.of(7))).toThrow(/corrupt SQL value buffer: tag 7 at byte 0/);
  });
});
