/**
 * The batch run's output CSV, written so that a kill at any moment loses at most the rows in flight:
 * header `arch,<metrics…>,ln_synflow?,seconds`, one row appended per finished architecture with a single
 * write() of the whole line. Reopening the file resumes: finished architectures are read back and skipped,
 * a last line without its newline (killed mid-write) is cut off, and a header for other metrics is an error.
 */
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readFileSync, truncateSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseNumberCell } from '../formats/csv.js';
import type { SearchSpace } from '../spaces/types.js';
import { InputError, inputError } from '../util/errors.js';
import type { MetricValue, ScoringResult } from './spec.js';

/** Output columns for a metric list: arch, the metrics, ln_synflow when synflow is among them, seconds. */
export function resultColumns(metrics: readonly string[]): string[] {
  const ms = [...new Set(metrics)];
  return ['arch', ...ms, ...(ms.includes('synflow') ? ['ln_synflow'] : []), 'seconds'];
}

function cell(v: MetricValue | undefined): string {
  if (v === undefined) return 'nan';
  // String() of a finite number is the shortest text that reads back to the same double
  return typeof v === 'number' ? String(v) : v;
}

/** RFC 4180 quoting where needed (DARTS genotype strings contain commas and quotes). */
export function csvField(text: string): string {
  return /[",\r\n]/.test(text) || text !== text.trim() ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * Splits one CSV line into fields, undoing RFC 4180 quoting (`"a,b"`, `""` for a quote); unquoted fields are
 * trimmed. Undefined for a line with an unterminated quoted field or text after a closing quote.
 */
export function splitCsvLine(line: string): string[] | undefined {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    while (line[i] === ' ' || line[i] === '\t') i++;
    if (line[i] === '"') {
      let v = '';
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q < 0) return undefined;
        v += line.slice(i, q);
        if (line[q + 1] === '"') {
          v += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      while (line[i] === ' ' || line[i] === '\t') i++;
      if (i < line.length && line[i] !== ',') return undefined;
      out.push(v);
    } else {
      const c = line.indexOf(',', i);
      const end = c < 0 ? line.length : c;
      out.push(line.slice(i, end).trim());
      i = end;
    }
    if (i >= line.length) return out;
    i++; // the comma
  }
}

/** One CSV line (with its newline) for a result, in `header` order. */
export function formatRow(header: readonly string[], r: ScoringResult): string {
  const cells = header.map((h) => {
    if (h === 'arch') return csvField(r.arch);
    if (h === 'seconds') return r.seconds.toFixed(3);
    if (h === 'ln_synflow') return cell(r.ln_synflow);
    return cell(r.values[h]);
  });
  return cells.join(',') + '\n';
}

export interface ResultsFile {
  readonly file: string;
  readonly header: readonly string[];
  /** Canonical archs already in the file. */
  readonly done: ReadonlySet<string>;
  /** What opening had to repair (a dropped partial last line), for the user; undefined if nothing. */
  readonly repaired: string | undefined;
  append(r: ScoringResult): void;
  close(): void;
}

/** Why a data line is not a complete row, or undefined if it is one. */
function rowProblem(fields: readonly string[] | undefined, header: readonly string[], space: SearchSpace): string | undefined {
  if (fields === undefined) return 'an unterminated or malformed quoted field';
  if (fields.length !== header.length) return `expected ${header.length} fields like the header, got ${fields.length}`;
  try {
    space.parse(fields[0]);
  } catch (e) {
    return `unknown architecture '${fields[0]}': ${(e as Error).message}`;
  }
  for (let k = 1; k < fields.length; k++) {
    if (parseNumberCell(fields[k]) === undefined) return `column ${header[k]}: expected a number, got '${fields[k]}'`;
  }
  return undefined;
}

/**
 * Opens (creating with its header, or resuming) the results file for `metrics`. A file holding other columns
 * is an InputError; so is a malformed row that is not the last line (the file was edited or is not ours).
 */
export function openResults(file: string, metrics: readonly string[], space: SearchSpace): ResultsFile {
  const header = resultColumns(metrics);
  const headerLine = header.join(',');
  const done = new Set<string>();
  let repaired: string | undefined;
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true });
  } else {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw inputError(file, undefined, `cannot read the existing results file (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
    }
    const lastNl = text.lastIndexOf('\n');
    if (lastNl < 0) {
      // not even a complete header: an interrupted start (or an empty file) is restarted, anything else is not ours
      if (!headerLine.startsWith(text.trim())) {
        throw inputError(file, undefined, `not a proxies results file (expected the header '${headerLine}'); use another --out`);
      }
      if (text.length > 0) repaired = 'an incomplete header line was rewritten';
      truncateSync(file, 0);
    } else {
      let keep = lastNl + 1;
      if (keep < text.length) repaired = `dropped a partially written last line ('${text.slice(keep, keep + 60)}…')`;
      const lines = text.slice(0, keep).split('\n');
      lines.pop(); // the empty string after the last newline
      const found = lines[0].replace(/\r$/, '').split(',').map((h) => h.trim());
      if (found.join(',') !== headerLine) {
        throw inputError(
          file,
          1,
          `the existing results have columns ${found.join(',')} but this run writes ${headerLine} ` +
            `(different --metrics); use another --out, or the same --metrics to resume`,
        );
      }
      let offset = lines[0].length + 1;
      for (let i = 1; i < lines.length; i++) {
        const line = lines[i].replace(/\r$/, '');
        const start = offset;
        offset += lines[i].length + 1;
        if (line.trim() === '') continue;
        const fields = splitCsvLine(line);
        const why = rowProblem(fields, header, space);
        if (why !== undefined) {
          if (i === lines.length - 1) {
            // a damaged final row (e.g. cut by a crash that still left a newline) is recomputed, not fatal
            repaired = `dropped a malformed last line ${i + 1} (${why})`;
            keep = start;
            break;
          }
          throw inputError(file, i + 1, `${why}; fix or remove the line, or use another --out`);
        }
        done.add(space.parse(fields![0]));
      }
      if (keep < Buffer.byteLength(text)) truncateSync(file, Buffer.byteLength(text.slice(0, keep)));
    }
  }
  const fd = openSync(file, 'a');
  if (fstatSync(fd).size === 0) writeSync(fd, headerLine + '\n');
  let closed = false;
  return {
    file,
    header,
    done,
    repaired,
    append(r) {
      if (closed) throw new Error('results file is closed');
      // one write() per row: a kill leaves whole rows plus at most one partial line, which resume drops
      writeSync(fd, formatRow(header, r));
    },
    close() {
      if (!closed) closeSync(fd);
      closed = true;
    },
  };
}

/** Reads a results file back: arch → column → number (NaN for nan). For reports and tests. */
export function readResults(file: string, space: SearchSpace): { header: string[]; rows: Map<string, Record<string, number>> } {
  if (!existsSync(file)) throw new InputError(`${file}: file not found`);
  const lines = readFileSync(file, 'utf8').split('\n');
  const complete = lines.slice(0, -1); // the text after the last newline is incomplete by construction
  const header = complete[0]?.replace(/\r$/, '').split(',') ?? [];
  const rows = new Map<string, Record<string, number>>();
  for (let i = 1; i < complete.length; i++) {
    const fields = splitCsvLine(complete[i].replace(/\r$/, ''));
    if (fields === undefined || fields.length !== header.length) continue;
    const rec: Record<string, number> = {};
    header.forEach((h, k) => {
      if (k > 0) rec[h] = parseNumberCell(fields[k]) ?? NaN;
    });
    rows.set(space.parse(fields[0]), rec);
  }
  return { header, rows };
}
