import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/**
 * A fast streaming reader for the long CSV format (`task,worker,label`): reads the file in
 * chunks, parses bytes directly (RFC 4180: quoted fields, "" escapes, CRLF or LF line ends, a
 * UTF-8 BOM), and interns each wanted column into integer codes without creating a string per
 * field — a string is decoded only the first time a distinct value appears. That is what makes a
 * 1M-line file take a fraction of a second (csv-parse builds an object per row).
 */

/** One column, interned: `codes[row]` indexes `values` (in order of first appearance). */
export interface InternedColumn {
  readonly values: string[];
  readonly codes: Int32Array;
}

export interface CsvColumns {
  readonly header: string[];
  readonly rows: number;
  readonly columns: Record<string, InternedColumn>;
}

const QUOTE = 0x22;
const COMMA = 0x2c;
const LF = 0x0a;
const CR = 0x0d;

/** Open-addressing hash table from byte strings to dense integer codes. */
class ByteInterner {
  private table: Int32Array;
  private hashes: Int32Array = new Int32Array(1 << 10);
  private starts: Int32Array = new Int32Array(1 << 10);
  private lengths: Int32Array = new Int32Array(1 << 10);
  private arena: Uint8Array = new Uint8Array(1 << 16);
  private arenaUsed = 0;
  readonly values: string[] = [];

  /** `slots`: initial table size (a power of two); the table doubles when half full. */
  constructor(slots = 1 << 12) {
    this.table = new Int32Array(slots).fill(-1);
  }

  /** The id returned last: long-format files list a task's answers together, so it often repeats. */
  private last = -1;

  intern(buf: Uint8Array, s: number, e: number): number {
    const len = e - s;
    const last = this.last;
    if (last >= 0 && this.lengths[last] === len) {
      // from the end: ids such as "worker-1234" differ in their last bytes
      const arena = this.arena;
      const a = this.starts[last] - s;
      let i = e - 1;
      while (i >= s && arena[a + i] === buf[i]) i--;
      if (i < s) return last;
    }
    let h = 0x811c9dc5 | 0;
    for (let i = s; i < e; i++) h = Math.imul(h ^ buf[i], 0x01000193);
    const table = this.table;
    const mask = table.length - 1;
    let slot = h & mask;
    for (;;) {
      const id = table[slot];
      if (id < 0) break;
      if (this.hashes[id] === h && this.lengths[id] === len) {
        const arena = this.arena;
        const a = this.starts[id] - s;
        let i = e - 1;
        while (i >= s && arena[a + i] === buf[i]) i--;
        if (i < s) return (this.last = id);
      }
      slot = (slot + 1) & mask;
    }
    return (this.last = this.add(buf, s, e, h, slot));
  }

  private add(buf: Uint8Array, s: number, e: number, h: number, slot: number): number {
    const id = this.values.length;
    const len = e - s;
    if (id >= this.hashes.length) {
      this.hashes = grow(this.hashes, id * 2);
      this.starts = grow(this.starts, id * 2);
      this.lengths = grow(this.lengths, id * 2);
    }
    if (this.arenaUsed + len > this.arena.length) {
      const a = new Uint8Array(Math.max(this.arena.length * 2, this.arenaUsed + len));
      a.set(this.arena.subarray(0, this.arenaUsed));
      this.arena = a;
    }
    // byte by byte: ids are short, and `subarray` of a Buffer makes a Buffer object per value
    const arena = this.arena;
    for (let i = 0, at = this.arenaUsed; i < len; i++) arena[at + i] = buf[s + i];
    this.hashes[id] = h;
    this.starts[id] = this.arenaUsed;
    this.lengths[id] = len;
    this.arenaUsed += len;
    this.values.push(Buffer.isBuffer(buf) ? buf.toString('utf8', s, e) : Buffer.from(buf.buffer, buf.byteOffset + s, len).toString('utf8'));
    this.table[slot] = id;
    if (this.values.length * 2 > this.table.length) this.rehash();
    return id;
  }

  private rehash(): void {
    const table = new Int32Array(this.table.length * 2).fill(-1);
    const mask = table.length - 1;
    for (let id = 0; id < this.values.length; id++) {
      let slot = this.hashes[id] & mask;
      while (table[slot] >= 0) slot = (slot + 1) & mask;
      table[slot] = id;
    }
    this.table = table;
  }
}

/**
 * Full code arrays (`rows` rows from the file's first `offset` bytes) grown to the rows the rest of
 * the file will hold at the same bytes per row, plus 5% (at least doubled otherwise): one copy
 * instead of a doubling per power of two. On the benchmark VM every first touch of a 4 KB page
 * costs ~10 µs, and doubling from 64k rows to 1M touched twice the final arrays (~35 ms).
 */
function growCodes(codes: Int32Array[], rows: number, offset: number, fileSize: number): Int32Array[] {
  const estimate = offset > 0 && rows > 0 ? Math.ceil((fileSize / offset) * rows * 1.05) + 1024 : 0;
  const n = Math.max(rows * 2, Math.min(estimate, rows * 64));
  return codes.map((c) => grow(c, n));
}

function grow(a: Int32Array, n: number): Int32Array {
  const b = new Int32Array(Math.max(n, 16));
  b.set(a);
  return b;
}

/**
 * Parses consecutive plain records of `B` from `p` (at a record start) up to `L`: no quote in
 * the record, fields separated by commas, ended by LF, CRLF or CR, at least `minFields` fields.
 * Interns the wanted fields, counts rows and lines in `st` ([rows, line]) and returns where it
 * stopped: at `L`, at the first record that is not plain or not complete in [p, L), or when the
 * code arrays are full. Bytes above ',' (0x2c) are never special, so most bytes cost one
 * comparison. A free function of arrays and numbers, one tight loop: inside the reader's long
 * general loop the same code was deoptimized again and again (--trace-deopt) and ran ~5× slower.
 */
function plainRecords(B: Uint8Array, p: number, L: number, colIndex: Int32Array, minFields: number, interners: ByteInterner[], codes: Int32Array[], st: Int32Array): number {
  let rows = st[0];
  let line = st[1];
  const cap = codes[0].length;
  const nc = colIndex.length;
  // field boundaries of the record being read (only the first `minFields` are kept)
  const fs = new Int32Array(minFields);
  const fe = new Int32Array(minFields);
  while (p < L && rows < cap) {
    let f = 0;
    let s = p;
    let q = p;
    let end = -1; // first byte after the record's line end
    while (q < L) {
      const ch = B[q];
      if (ch > COMMA) {
        q++;
        continue;
      }
      if (ch === COMMA) {
        if (f < minFields) ((fs[f] = s), (fe[f] = q));
        f++;
        s = ++q;
        continue;
      }
      if (ch === LF) {
        end = q + 1;
        break;
      }
      if (ch === CR) {
        if (q + 1 < L) end = B[q + 1] === LF ? q + 2 : q + 1;
        break;
      }
      if (ch === QUOTE) break;
      q++;
    }
    if (end < 0) break; // not plain, or cut by the end of the chunk: the general parser takes it
    if (f < minFields) ((fs[f] = s), (fe[f] = q));
    f++;
    if (f === 1 && q === p) {
      // blank line
      line++;
      p = end;
      continue;
    }
    if (f < minFields) break; // too few fields: the general parser reports it
    let empty = false;
    for (let i = 0; i < nc; i++) if (fs[colIndex[i]] === fe[colIndex[i]]) empty = true;
    if (empty) break; // an empty wanted value: the general parser reports it
    for (let i = 0; i < nc; i++) {
      const c = colIndex[i];
      codes[i][rows] = interners[i].intern(B, fs[c], fe[c]);
    }
    rows++;
    line++;
    p = end;
  }
  st[0] = rows;
  st[1] = line;
  return p;
}

/** Thrown for malformed files; the CLI prints the message. */
export class CsvError extends Error {}

/**
 * Reads `path` and interns the named columns (which must be in the header; other columns are
 * skipped). Empty lines are ignored; an empty value in a named column is an error (file:line).
 * The file is read in `chunkSize` pieces into one reused buffer (grown only for a record longer
 * than it): 1 MB rather than 8 MB, because on the benchmark VM each first touch of a page costs
 * ~10 µs and the buffer's pages are all touched.
 */
export function readCsvColumns(path: string, wanted: readonly string[], chunkSize = 1 << 20): CsvColumns {
  const fd = openSync(path, 'r');
  try {
    let buf: Uint8Array = Buffer.allocUnsafe(chunkSize);
    let len = 0;
    let eof = false;
    // bytes read so far (the file offset of buf[len]) and the file's size, to size the code arrays
    let fileRead = 0;
    const fileSize = fstatSync(fd).size;
    const fill = () => {
      if (eof) return;
      if (len === buf.length) {
        const b = Buffer.allocUnsafe(buf.length * 2);
        b.set(buf.subarray(0, len));
        buf = b;
      }
      const n = readSync(fd, buf, len, buf.length - len, null);
      if (n === 0) eof = true;
      len += n;
      fileRead += n;
    };
    fill();
    let pos = 0;
    if (len >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) pos = 3;
    let scratch = new Uint8Array(256);
    let header: string[] | null = null;
    let colIndex: Int32Array = new Int32Array(0);
    let interners: ByteInterner[] = [];
    let codes: Int32Array[] = [];
    let rows = 0;
    let line = 1;
    // field boundaries of the current record (start, end) and whether a field lives in `scratch`
    let fs: Int32Array = new Int32Array(64);
    let fe: Int32Array = new Int32Array(64);
    let fq = new Uint8Array(64);
    let nf = 0;
    // fewest fields a record needs (1 + the last wanted column), and the fast parser's rows, line
    let minFields = 0;
    const fast = new Int32Array(2);
    for (;;) {
      // parse one record starting at pos; on running out of bytes mid-record, refill and retry
      nf = 0;
      let scratchUsed = 0;
      let complete = false;
      let p = pos;
      // local copies: `buf`/`len` are captured by `fill`, and reading captured variables in this loop is slow
      const B = buf;
      const L = len;
      if (header !== null && p < L) {
        // runs of plain records (no quotes) in a tight loop of their own; it stops at a record it
        // does not handle (a quote, a record cut by the end of the chunk, too few fields, the
        // last record without a line end), which the general parser below then takes
        if (rows === codes[0].length) codes = growCodes(codes, rows, fileRead - (L - p), fileSize);
        fast[0] = rows;
        fast[1] = line;
        p = plainRecords(B, p, L, colIndex, minFields, interners, codes, fast);
        rows = fast[0];
        line = fast[1];
        pos = p;
        if (p >= L) {
          if (eof) break;
          len = 0;
          pos = 0;
          fill();
          if (len === 0) break;
          continue;
        }
        if (rows === codes[0].length) continue; // full: grow, then go on
      }
      const recStart = pos;
      while (!complete && p < L) {
        let s: number;
        let e: number;
        let inScratch = 0;
        if (B[p] === QUOTE) {
          let q = p + 1;
          let escaped = false;
          for (;;) {
            while (q < L && B[q] !== QUOTE) q++;
            if (q + 1 >= L && !eof) break; // need more bytes to know what follows the quote
            if (q >= L) throw new CsvError(`${path}:${line}: unterminated quoted field`);
            if (B[q + 1] === QUOTE) {
              escaped = true;
              q += 2;
              continue;
            }
            break;
          }
          if (q + 1 >= L && !eof) break;
          if (escaped) {
            // copy with "" → " into the scratch buffer
            const need = scratchUsed + (q - p);
            if (need > scratch.length) {
              const b = new Uint8Array(need * 2);
              b.set(scratch.subarray(0, scratchUsed));
              scratch = b;
            }
            s = scratchUsed;
            for (let i = p + 1; i < q; i++) {
              scratch[scratchUsed++] = B[i];
              if (B[i] === QUOTE) i++;
            }
            e = scratchUsed;
            inScratch = 1;
          } else {
            s = p + 1;
            e = q;
          }
          p = q + 1;
          if (p < L && B[p] !== COMMA && B[p] !== LF && B[p] !== CR) throw new CsvError(`${path}:${line}: characters after a closing quote`);
        } else {
          s = p;
          while (p < L && B[p] !== COMMA && B[p] !== LF && B[p] !== CR) p++;
          e = p;
          if (p >= L && !eof) break;
        }
        if (nf === fs.length) {
          fs = grow(fs, nf * 2);
          fe = grow(fe, nf * 2);
          const q = new Uint8Array(nf * 2);
          q.set(fq);
          fq = q;
        }
        fs[nf] = s;
        fe[nf] = e;
        fq[nf] = inScratch;
        nf++;
        if (p >= L) {
          complete = true;
          break;
        }
        const ch = B[p];
        if (ch === COMMA) {
          p++;
          if (p >= L && eof) {
            if (nf === fs.length) ((fs = grow(fs, nf * 2)), (fe = grow(fe, nf * 2)));
            fs[nf] = fe[nf] = 0;
            fq[nf] = 0;
            nf++;
            complete = true;
            break;
          }
          continue;
        }
        // end of line: CR, LF or CRLF
        if (ch === CR) {
          if (p + 1 >= L && !eof) break;
          p += p + 1 < L && B[p + 1] === LF ? 2 : 1;
        } else p++;
        complete = true;
        break;
      }
      if (!complete) {
        if (eof) break; // nothing left (p reached len exactly at a record boundary)
        // move the partial record to the front and read more
        buf.copyWithin(0, recStart, len);
        len -= recStart;
        pos = 0;
        fill();
        continue;
      }
      pos = p;
      const isBlank = nf === 1 && fe[0] === fs[0] && fq[0] === 0;
      if (!isBlank) {
        if (!header) {
          header = [];
          for (let i = 0; i < nf; i++) {
            const src = fq[i] ? scratch : buf;
            header.push(Buffer.from(src.buffer, src.byteOffset + fs[i], fe[i] - fs[i]).toString('utf8').trim());
          }
          // plain loops, no closures: a variable captured by a closure lives in a context object,
          // and this loop reads `header`, `rows`, `codes`... once per record
          colIndex = new Int32Array(wanted.length);
          for (let i = 0; i < wanted.length; i++) {
            colIndex[i] = header.indexOf(wanted[i]);
            if (colIndex[i] < 0) throw new CsvError(`${path}: the header has no "${wanted[i]}" column (header: ${header.join(',')})`);
          }
          // tables start small and double as values arrive: a table sized for the file (one slot
          // per ~32 bytes, 4 MB for a 1M-line file) spared the task column a few rehashes but
          // made every lookup in the worker and label columns (a few thousand values) a cache miss
          interners = wanted.map(() => new ByteInterner());
          for (let i = 0; i < colIndex.length; i++) minFields = Math.max(minFields, colIndex[i] + 1);
          codes = wanted.map(() => new Int32Array(1 << 16));
        } else {
          if (rows === codes[0].length) codes = growCodes(codes, rows, fileRead - (len - pos), fileSize);
          for (let i = 0; i < colIndex.length; i++) {
            const f = colIndex[i];
            if (f >= nf) throw new CsvError(`${path}:${line}: expected at least ${f + 1} fields, got ${nf}`);
            if (fe[f] === fs[f]) throw new CsvError(`${path}:${line}: empty "${wanted[i]}"`);
            codes[i][rows] = interners[i].intern(fq[f] ? scratch : buf, fs[f], fe[f]);
          }
          rows++;
        }
      }
      line++;
      if (pos >= len) {
        if (eof) break;
        len = 0;
        pos = 0;
        fill();
        if (len === 0) break;
      }
    }
    if (!header) throw new CsvError(`${path}: empty file (expected a header: ${wanted.join(',')})`);
    const columns: Record<string, InternedColumn> = {};
    for (let i = 0; i < wanted.length; i++) columns[wanted[i]] = { values: interners[i].values, codes: codes[i].subarray(0, rows) };
    return { header, rows, columns };
  } finally {
    closeSync(fd);
  }
}
