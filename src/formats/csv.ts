/**
 * CSV reading (benchmark tables, metric tables), a thin adapter over `csv-parse` (RFC 4180: quoted fields,
 * `""` escapes, quoted newlines; BOM; `\n`, `\r\n` or `\r` line ends, even mixed): it keeps each
 * record's 1-based starting line (the header is line 1) for error messages, turns csv-parse's
 * errors into InputErrors naming the file and line, and offers typed column access.
 */
import { readFileSync } from 'node:fs';
import { CsvError, parse, type InfoRecord } from 'csv-parse/sync';
import { inputError } from '../util/errors.js';

export interface CsvTable {
  readonly file: string;
  readonly header: readonly string[];
  /** Data records (header excluded); every record has `header.length` fields. */
  readonly rows: readonly (readonly string[])[];
  /** 1-based line number on which each record starts. */
  readonly lines: readonly number[];
}

/**
 * Parses CSV text; blank lines are skipped, a record with the wrong field count is an error. `library: true` always uses
 * csv-parse (tests compare it with the direct split of quote-free text).
 */
export function parseCsv(text: string, file: string, options: { library?: boolean } = {}): CsvTable {
  return parseCsvData(text, file, options.library ?? false);
}

function parseCsvData(data: string | Uint8Array, file: string, library = false): CsvTable {
  if (!library && (typeof data === 'string' ? !data.includes('"') : data.indexOf(0x22) < 0)) {
    const plain = parsePlainCsv(typeof data === 'string' ? data : new TextDecoder().decode(data), file);
    if (plain !== undefined) return plain;
  }
  // csv-parse reports the line a record *ends* on (info.lines, counting line breaks inside quoted
  // fields too) and the blank lines skipped so far; a record starts on the line after the
  // previous record's last line, plus the blank lines skipped in between.
  const lines: number[] = [];
  let lastEnd = 0;
  let lastEmpty = 0;
  let width = 0;
  const startLine = (info: { lines: number; empty_lines: number }): number => lastEnd + 1 + info.empty_lines - lastEmpty;
  let records: string[][];
  try {
    records = parse(data, {
      bom: true,
      skip_empty_lines: true,
      record_delimiter: ['\r\n', '\n', '\r'],
      on_record: (record: string[], info: InfoRecord) => {
        if (lines.length === 0) width = record.length;
        lines.push(startLine(info));
        lastEnd = info.lines;
        lastEmpty = info.empty_lines;
        return record;
      },
    });
  } catch (e) {
    if (!(e instanceof CsvError)) throw e;
    const errLines = typeof e['lines'] === 'number' ? e['lines'] : undefined;
    const errEmpty = typeof e['empty_lines'] === 'number' ? e['empty_lines'] : lastEmpty;
    const start = errLines === undefined ? undefined : startLine({ lines: errLines, empty_lines: errEmpty });
    switch (e.code) {
      case 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH': {
        const got = Array.isArray(e['record']) ? e['record'].length : '?';
        throw inputError(file, undefined, `line ${start}: expected ${width} fields like the header, got ${got}`);
      }
      case 'CSV_QUOTE_NOT_CLOSED':
        throw inputError(file, undefined, `line ${start}: unterminated quoted field`);
      case 'CSV_INVALID_CLOSING_QUOTE':
        throw inputError(file, undefined, `line ${errLines}: unexpected character after a closing quote`);
      case 'INVALID_OPENING_QUOTE':
        throw inputError(file, undefined, `line ${errLines}: a quote inside an unquoted field (quote the whole field, doubling inner quotes)`);
      default:
        throw inputError(file, undefined, `${errLines === undefined ? '' : `line ${errLines}: `}${e.message}`);
    }
  }
  return withHeader(records, lines, file);
}

/**
 * A file without quotes, split directly: records are its non-empty lines (ending in \n or \r\n), fields what lies
 * between commas — exactly what csv-parse makes of such a file (a property test checks it), in a fraction of the time
 * (0.3 s of csv-parse for a 6 MB NAS-Bench-201 table was most of a `bench` run's loading). undefined (use csv-parse)
 * when a lone \r ends a line.
 */
function parsePlainCsv(text: string, file: string): CsvTable | undefined {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const records: string[][] = [];
  const lines: number[] = [];
  const split = body.split('\n');
  for (let i = 0; i < split.length; i++) {
    let line = split[i]!;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.includes('\r')) return undefined;
    if (line.length === 0) continue;
    const record = line.split(',');
    if (records.length > 0 && record.length !== records[0]!.length) {
      throw inputError(file, undefined, `line ${i + 1}: expected ${records[0]!.length} fields like the header, got ${record.length}`);
    }
    records.push(record);
    lines.push(i + 1);
  }
  return withHeader(records, lines, file);
}

function withHeader(records: string[][], lines: number[], file: string): CsvTable {
  if (records.length === 0) throw inputError(file, undefined, 'empty CSV file (expected a header line)');
  const header = records[0]!.map((h) => h.trim());
  const seen = new Set<string>();
  for (const h of header) {
    if (seen.has(h)) throw inputError(file, undefined, `line 1: column '${h}' appears twice`);
    seen.add(h);
  }
  return { file, header, rows: records.slice(1), lines: lines.slice(1) };
}

export function readCsvFile(path: string): CsvTable {
  let data: Buffer;
  try {
    data = readFileSync(path); // csv-parse works on bytes: no need to decode to a string first
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw inputError(path, undefined, code === 'ENOENT' ? 'file not found' : `cannot read file (${code ?? String(e)})`);
  }
  return parseCsvData(data, path);
}

/** Index of a column, or -1. */
export function columnIndex(t: CsvTable, name: string): number {
  return t.header.indexOf(name);
}

/** Index of a required column; a missing column is an error listing the columns found. */
export function requireColumn(t: CsvTable, name: string, why = ''): number {
  const k = t.header.indexOf(name);
  if (k < 0) {
    throw inputError(t.file, undefined, `missing required column '${name}'${why} (columns found: ${t.header.join(', ')})`);
  }
  return k;
}

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * A cell as a number: empty → NaN; also accepts nan/inf/-inf/infinity (any case, as Python and
 * pandas write them). Returns undefined for anything else.
 */
export function parseNumberCell(cell: string): number | undefined {
  if (cell.length === 0) return NaN;
  // fast path: Number() accepts decimal notation; reject its hex/binary/octal/Infinity forms
  const v = Number(cell);
  if (v === v && v !== Infinity && v !== -Infinity) {
    const c1 = cell.length > 1 ? cell.charCodeAt(1) | 0x20 : 0;
    if (c1 !== 0x78 && c1 !== 0x62 && c1 !== 0x6f && cell.trim().length > 0) return v;
  }
  const s = cell.trim();
  if (s.length === 0) return NaN;
  if (NUMBER.test(s)) return Number(s);
  const l = s.toLowerCase();
  if (l === 'nan' || l === '+nan' || l === '-nan') return NaN;
  if (l === 'inf' || l === '+inf' || l === 'infinity' || l === '+infinity') return Infinity;
  if (l === '-inf' || l === '-infinity') return -Infinity;
  return undefined;
}

/** A numeric column; an unparsable cell is an error naming its line and column. */
export function numberColumn(t: CsvTable, k: number): Float64Array {
  return numberColumns(t, [k])[0]!;
}

/** Several numeric columns at once (one row-major pass, much faster than column by column). */
export function numberColumns(t: CsvTable, ks: readonly number[]): Float64Array[] {
  const nRows = t.rows.length;
  const nCols = ks.length;
  const outs = ks.map(() => new Float64Array(nRows));
  const rows = t.rows;
  for (let r = 0; r < nRows; r++) {
    const row = rows[r]!;
    for (let j = 0; j < nCols; j++) {
      const cell = row[ks[j]!]!;
      const v = parseNumberCell(cell);
      if (v === undefined) {
        throw inputError(t.file, undefined, `line ${t.lines[r]}, column ${t.header[ks[j]!]}: expected a number, got '${cell}'`);
      }
      outs[j]![r] = v;
    }
  }
  return outs;
}

/**
 * Refuses a written non-finite value (`nan`, `inf`, `1e999`…) in column k, whose parsed values are `values`: in the
 * columns a search queries or reports (objective, cost, final metric) such a value would silently change the
 * answer. An empty cell stays NaN, "unknown", as everywhere.
 */
export function requireFinite(t: CsvTable, k: number, values: Float64Array): Float64Array {
  for (let r = 0; r < values.length; r++) {
    if (Number.isFinite(values[r]!)) continue;
    const cell = t.rows[r]![k]!;
    if (cell.trim() === '') continue;
    throw inputError(
      t.file,
      undefined,
      `line ${t.lines[r]}, column ${t.header[k]}: expected a finite number, got '${cell.trim()}' (leave the cell empty for an unknown value)`,
    );
  }
  return values;
}

/** A text column (cells trimmed). */
export function textColumn(t: CsvTable, k: number): string[] {
  return t.rows.map((row) => row[k]!.trim());
}
