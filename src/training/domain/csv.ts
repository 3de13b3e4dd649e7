/**
 * A small RFC 4180 CSV reader: comma separator, double-quoted fields with "" escapes and embedded
 * newlines, CRLF or LF line ends, a header line. Blank lines are skipped.
 */
export interface CsvTable {
  columns: string[];
  /** Column name → raw cell text. */
  records: Record<string, string>[];
}

export function parseCsvRows(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0; // byte-order mark
  const endRow = (): void => {
    row.push(field);
    if (!(row.length === 1 && row[0] === '')) rows.push(row);
    row = [];
    field = '';
  };
  for (; i < text.length; i += 1) {
    const char = text[i];
    if (quoted) {
      if (char === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 1;
        } else {
          quoted = false;
        }
      } else {
        field += char;
      }
    } else if (char === '"' && field === '') {
      quoted = true;
    } else if (char === ',') {
      row.push(field);
      field = '';
    } else if (char === '\n' || char === '\r') {
      if (char === '\r' && text[i + 1] === '\n') i += 1;
      endRow();
    } else {
      field += char;
    }
  }
  if (quoted) throw new Error('CSV: unterminated quoted field at end of file');
  if (field !== '' || row.length > 0) endRow();
  return rows;
}

export function parseCsv(text: string): CsvTable {
  const [header, ...body] = parseCsvRows(text);
  if (!header) throw new Error('CSV: empty file (a header line is required)');
  const columns = header.map((name) => name.trim());
  const records = body.map((cells) => {
    const record: Record<string, string> = {};
    columns.forEach((name, j) => {
      record[name] = cells[j] ?? '';
    });
    return record;
  });
  return { columns, records };
}

function quote(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export function formatCsv(
  columns: readonly string[],
  records: readonly Record<string, string | number | null | undefined>[],
): string {
  const lines = [columns.map(quote).join(',')];
  for (const record of records) lines.push(columns.map((c) => quote(String(record[c] ?? ''))).join(','));
  return `${lines.join('\n')}\n`;
}
