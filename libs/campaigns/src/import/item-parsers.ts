import { parse as csvParse } from 'csv-parse';
import { StringDecoder } from 'node:string_decoder';
import { ImportErrors } from '../campaigns.errors';
import type { ImportFormat } from './import-format';

/**
 * One row read from an upload, before any task-type validation. `line` is the 1-based line of
 * the file where the row starts (for CSV the header is line 1). A row that cannot be read on its
 * own (bad JSON on a JSONL line, wrong CSV column count) carries `problem` instead of `value`.
 */
export type RawRow =
  | { line: number; value: unknown; csv?: boolean; problem?: undefined }
  | { line: number; problem: string; field?: string; value?: undefined };

/** A JSON row or JSONL line longer than this is refused rather than buffered without bound. */
export const MAX_ROW_CHARS = 8 * 1024 * 1024;

export type Chunks = AsyncIterable<Buffer | string>;

export function parseItems(format: ImportFormat, source: Chunks): AsyncGenerator<RawRow> {
  switch (format) {
    case 'jsonl':
      return parseJsonLines(source);
    case 'json':
      return parseJsonArray(source);
    case 'csv':
      return parseCsv(source);
  }
}

async function* decode(source: Chunks): AsyncGenerator<string> {
  // Decodes across chunk boundaries so a multi-byte character split between two chunks survives.
  const dec = new StringDecoder('utf8');
  let first = true;
  for await (const chunk of source) {
    let s = typeof chunk === 'string' ? chunk : dec.write(chunk);
    if (first && s.length) {
      if (s.charCodeAt(0) === 0xfeff) s = s.slice(1); // BOM from spreadsheet exports
      first = false;
    }
    if (s) yield s;
  }
  const rest = dec.end();
  if (rest) yield rest;
}

/** JSONL: one JSON value per line; blank lines are skipped; a bad line is that row's problem. */
export async function* parseJsonLines(source: Chunks): AsyncGenerator<RawRow> {
  let pending = '';
  let line = 0;
  const one = (text: string): RawRow | null => {
    line++;
    const t = text.endsWith('\r') ? text.slice(0, -1) : text;
    if (!t.trim()) return null;
    try {
      return { line, value: JSON.parse(t) };
    } catch (e) {
      return { line, problem: `not valid JSON (${(e as Error).message})` };
    }
  };
  for await (const s of decode(source)) {
    let start = 0;
    let nl: number;
    const text = pending + s;
    while ((nl = text.indexOf('\n', start)) !== -1) {
      const row = one(text.slice(start, nl));
      if (row) yield row;
      start = nl + 1;
    }
    pending = text.slice(start);
    if (pending.length > MAX_ROW_CHARS) throw ImportErrors.malformed(line + 1, `a line is longer than ${MAX_ROW_CHARS} characters`);
  }
  if (pending) {
    const row = one(pending);
    if (row) yield row;
  }
}

/**
 * A JSON array, split into its top-level elements as the bytes arrive, so the whole document is
 * never held in memory (only one element at a time). Each element is then JSON.parse'd on its
 * own: an element that is bad JSON in itself (`{"a": tru}`) is that row's problem; broken
 * structure (no opening `[`, unbalanced brackets, text after the closing `]`, a truncated file)
 * makes the whole file malformed, because no element boundary after it can be trusted.
 */
export async function* parseJsonArray(source: Chunks): AsyncGenerator<RawRow> {
  type State = 'start' | 'first' | 'value' | 'inValue' | 'after' | 'end';
  let state: State = 'start';
  let line = 1;
  let depth = 0;
  let inString = false;
  let escaped = false;
  let startLine = 0;
  let parts: string[] = [];
  let partsLen = 0;
  const malformed = (problem: string) => ImportErrors.malformed(line, problem);
  const finish = (): RawRow => {
    const text = parts.join('');
    parts = [];
    partsLen = 0;
    try {
      return { line: startLine, value: JSON.parse(text) };
    } catch (e) {
      return { line: startLine, problem: `not valid JSON (${(e as Error).message})` };
    }
  };

  for await (const s of decode(source)) {
    let valueFrom = state === 'inValue' ? 0 : -1;
    for (let i = 0; i < s.length; i++) {
      const c = s[i];
      if (state === 'inValue') {
        if (inString) {
          if (escaped) escaped = false;
          else if (c === '\\') escaped = true;
          else if (c === '"') {
            inString = false;
            if (depth === 0) {
              // a top-level string element ends here
              parts.push(s.slice(valueFrom, i + 1));
              yield finish();
              state = 'after';
            }
          } else if (c === '\n') line++;
          continue;
        }
        if (c === '"') inString = true;
        else if (c === '{' || c === '[') depth++;
        else if (c === '}' || c === ']') {
          if (depth === 0) {
            // `]` ends the array right after a primitive element
            parts.push(s.slice(valueFrom, i));
            yield finish();
            state = 'end';
            continue;
          }
          depth--;
          if (depth === 0) {
            parts.push(s.slice(valueFrom, i + 1));
            yield finish();
            state = 'after';
          }
        } else if (depth === 0 && (c === ',' || c === ' ' || c === '\t' || c === '\r' || c === '\n')) {
          // the end of a primitive element (number, true, false, null)
          parts.push(s.slice(valueFrom, i));
          yield finish();
          state = 'after';
          i--; // let the 'after' state see this separator
        } else if (c === '\n') line++;
        continue;
      }
      if (c === '\n') {
        line++;
        continue;
      }
      if (c === ' ' || c === '\t' || c === '\r') continue;
      switch (state) {
        case 'start':
          if (c !== '[') throw malformed('a JSON import must be an array of items ([ {...}, {...} ])');
          state = 'first';
          break;
        case 'first':
        case 'value':
          if (c === ']' && state === 'first') {
            state = 'end';
            break;
          }
          if (c === ',' || c === ']') throw malformed(`unexpected "${c}" where an item was expected`);
          state = 'inValue';
          startLine = line;
          valueFrom = i;
          depth = 0;
          if (c === '"') inString = true;
          else if (c === '{' || c === '[') depth = 1;
          break;
        case 'after':
          if (c === ',') state = 'value';
          else if (c === ']') state = 'end';
          else throw malformed(`expected "," or "]" after an item, found "${c}"`);
          break;
        case 'end':
          throw malformed('unexpected text after the closing "]"');
      }
    }
    if (state === 'inValue') {
      parts.push(s.slice(valueFrom));
      partsLen += s.length - valueFrom;
      if (partsLen > MAX_ROW_CHARS) throw ImportErrors.malformed(startLine, `an item is longer than ${MAX_ROW_CHARS} characters`);
    }
  }
  const last = state as State; // TS narrows across the loop too eagerly
  if (last === 'start') throw malformed('the upload is empty; send a JSON array of items');
  if (last !== 'end') throw malformed('the JSON array is not closed (truncated upload?)');
}

/**
 * CSV with a header row (RFC 4180 quoting; a BOM and blank lines are ignored). Each data row
 * becomes an object of its non-empty cells, marked `csv` so the row mapper can coerce cell
 * strings (width/height to numbers, gold/prelabel from JSON or a bare label).
 */
export async function* parseCsv(source: Chunks): AsyncGenerator<RawRow> {
  const parser = csvParse({ bom: true, skip_empty_lines: true, relax_column_count: true, info: true, max_record_size: MAX_ROW_CHARS });
  // Feed the parser from the source with backpressure; errors surface through the iterator.
  // Once the parser is gone (malformed CSV, or the reader stopped) the rest of the upload is still
  // read, unparsed, so the client gets its answer instead of a reset connection.
  const feed = (async () => {
    try {
      for await (const chunk of source) {
        if (parser.destroyed) continue;
        if (!parser.write(chunk)) {
          await new Promise<void>((r) => {
            const done = () => {
              parser.off('drain', done);
              parser.off('close', done);
              r();
            };
            parser.on('drain', done);
            parser.on('close', done);
          });
        }
      }
      if (!parser.destroyed) parser.end();
    } catch (e) {
      parser.destroy(e as Error);
    }
  })();
  let header: string[] | null = null;
  let crlfInCells = 0;
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      // info.lines is where the record ends, except that csv-parse counts a CRLF inside a quoted
      // cell as two lines: take those back out, then step back over the cells' own line breaks.
      crlfInCells += record.reduce((n, cell) => n + count(cell, /\r\n/g), 0);
      const line = info.lines - crlfInCells - record.reduce((n, cell) => n + count(cell, /\r\n|\r|\n/g), 0);
      if (!header) {
        header = record.map((h) => h.trim());
        const dup = header.find((h, i) => header!.indexOf(h) !== i);
        if (header.some((h) => !h)) throw ImportErrors.malformed(line, 'the CSV header has an empty column name');
        if (dup) throw ImportErrors.malformed(line, `the CSV header repeats the column "${dup}"`);
        continue;
      }
      if (record.length !== header.length) {
        yield { line, problem: `has ${record.length} columns; the header has ${header.length}` };
        continue;
      }
      const value: Record<string, string> = {};
      header.forEach((h, i) => {
        if (record[i] !== '') value[h] = record[i];
      });
      yield { line, value, csv: true };
    }
  } catch (e) {
    const err = e as { code?: string; lines?: number; message?: string };
    if (err.code?.startsWith('CSV_')) throw ImportErrors.malformed(err.lines ?? 0, err.message ?? 'malformed CSV');
    throw e;
  } finally {
    if (!parser.writableFinished || !parser.readableEnded) parser.destroy();
    await feed;
  }
  if (!header) throw ImportErrors.malformed(1, 'the upload is empty; a CSV import needs a header row');
}

function count(s: string, re: RegExp): number {
  if (s.indexOf('\n') === -1 && s.indexOf('\r') === -1) return 0; // the common case, cheaply
  return s.match(re)?.length ?? 0;
}

/** Passes chunks through and fails once more than `limit` bytes have gone by. */
export async function* limitBytes(source: AsyncIterable<Buffer | string>, limit: number, onExceed: () => Error): AsyncGenerator<Buffer | string> {
  let seen = 0;
  for await (const chunk of source) {
    seen += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
    if (seen > limit) throw onExceed();
    yield chunk;
  }
}
