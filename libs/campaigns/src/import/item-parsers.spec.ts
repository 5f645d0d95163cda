import { DomainError } from '@tally/common';
import { limitBytes, parseCsv, parseJsonArray, parseJsonLines, RawRow } from './item-parsers';
import { resolveImportFormat } from './import-format';

/** Feeds the text in chunks of `size` bytes, so boundaries fall everywhere (also inside a UTF-8 character). */
async function* chunks(text: string, size: number): AsyncGenerator<Buffer> {
  const buf = Buffer.from(text, 'utf8');
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

async function all(gen: AsyncGenerator<RawRow>): Promise<RawRow[]> {
  const out: RawRow[] = [];
  for await (const r of gen) out.push(r);
  return out;
}

const SIZES = [1, 2, 3, 7, 64, 1 << 20];

describe('parseJsonLines', () => {
  it.each(SIZES)('reads one value per line with its line number, skipping blanks (chunks of %i)', async (size) => {
    const text = '{"text":"a"}\r\n\n{"text":"é ü 漢字"}\n{"text": broken}\n  \n[1]\n{"text":"last"}';
    const rows = await all(parseJsonLines(chunks(text, size)));
    expect(rows.map((r) => r.line)).toEqual([1, 3, 4, 6, 7]);
    expect(rows[1].value).toEqual({ text: 'é ü 漢字' });
    expect(rows[2].problem).toMatch(/not valid JSON/);
    expect(rows[3].value).toEqual([1]);
    expect(rows[4].value).toEqual({ text: 'last' });
  });

  it('reads nothing from an empty upload', async () => {
    expect(await all(parseJsonLines(chunks('', 4)))).toEqual([]);
  });

  it('strips a byte-order mark', async () => {
    const rows = await all(parseJsonLines(chunks('\ufeff{"a":1}\n', 1)));
    expect(rows).toEqual([{ line: 1, value: { a: 1 } }]);
  });
});

describe('parseJsonArray', () => {
  const doc = `[
  {"text": "a, [b] {c}", "n": [1, 2, {"x": "]"}]},
  {"text": "escaped \\" quote \\\\", "multi":
     "line"},
  "a string",
  42, true ,null,
  {"text": tru},
  {"text": "z"}
]
`;
  it.each(SIZES)('splits the top-level elements and names the line each starts on (chunks of %i)', async (size) => {
    const rows = await all(parseJsonArray(chunks(doc, size)));
    expect(rows.map((r) => r.line)).toEqual([2, 3, 5, 6, 6, 6, 7, 8]);
    expect(rows[0].value).toEqual({ text: 'a, [b] {c}', n: [1, 2, { x: ']' }] });
    expect(rows[1].value).toEqual({ text: 'escaped " quote \\', multi: 'line' });
    expect(rows.slice(2, 6).map((r) => r.value)).toEqual(['a string', 42, true, null]);
    expect(rows[6].problem).toMatch(/not valid JSON/);
    expect(rows[7].value).toEqual({ text: 'z' });
  });

  it('reads an empty array and a primitive right before the closing bracket', async () => {
    expect(await all(parseJsonArray(chunks(' [ ] ', 1)))).toEqual([]);
    expect((await all(parseJsonArray(chunks('[1,2]', 1)))).map((r) => r.value)).toEqual([1, 2]);
  });

  it.each([
    ['{"text":"not an array"}', /must be an array/],
    ['[{"a":1}, {"a":2}', /not closed/],
    ['[{"a":1} {"a":2}]', /expected "," or "\]"/],
    ['[{"a":1},]', /unexpected "\]"/],
    ['[1] [2]', /after the closing/],
    ['', /empty/],
  ])('refuses broken structure %j as a malformed file', async (text, message) => {
    const err = await all(parseJsonArray(chunks(text, 3))).catch((e) => e);
    expect(err).toBeInstanceOf(DomainError);
    expect(err.code).toBe('IMPORT_FILE_MALFORMED');
    expect(err.message).toMatch(message);
  });
});

describe('parseCsv', () => {
  it.each(SIZES)('maps cells to header columns, drops empty cells and names the starting line (chunks of %i)', async (size) => {
    const text = '\ufefftext,gold,note\n"a, quoted",pos,\n\n"multi\nline",neg,x\nonly-one\nplain,,"say ""hi"""\n';
    const rows = await all(parseCsv(chunks(text, size)));
    expect(rows).toEqual([
      { line: 2, value: { text: 'a, quoted', gold: 'pos' }, csv: true },
      { line: 4, value: { text: 'multi\nline', gold: 'neg', note: 'x' }, csv: true },
      { line: 6, problem: 'has 1 columns; the header has 3' },
      { line: 7, value: { text: 'plain', note: 'say "hi"' }, csv: true },
    ]);
  });

  it.each(SIZES)('counts CRLF line breaks, also inside quoted cells, as one line each (chunks of %i)', async (size) => {
    const text = 'text\r\n"a\r\nb\r\nc"\r\nd\r\n"e\nf"\r\ng\r\n';
    const rows = await all(parseCsv(chunks(text, size)));
    expect(rows.map((r) => [r.line, (r.value as { text: string }).text])).toEqual([
      [2, 'a\r\nb\r\nc'],
      [5, 'd'],
      [6, 'e\nf'],
      [8, 'g'],
    ]);
  });

  it('refuses an unclosed quote, a repeated header and an empty file', async () => {
    for (const [text, re] of [
      ['text\n"open\n', /Quote Not Closed/],
      ['text,text\na,b\n', /repeats the column "text"/],
      ['', /empty/],
    ] as const) {
      const err = await all(parseCsv(chunks(text, 2))).catch((e) => e);
      expect(err.code).toBe('IMPORT_FILE_MALFORMED');
      expect(err.message).toMatch(re);
    }
  });

  it('surfaces an error from the source (e.g. the size limit) unchanged', async () => {
    const limited = limitBytes(chunks('text\n' + 'a\n'.repeat(1000), 16), 100, () => new Error('too big'));
    await expect(all(parseCsv(limited))).rejects.toThrow('too big');
  });
});

describe('limitBytes', () => {
  it('passes up to the limit and fails beyond it', async () => {
    const read: number[] = [];
    const gen = limitBytes(chunks('x'.repeat(10), 4), 9, () => new Error('limit'));
    await expect((async () => {
      for await (const c of gen) read.push(c.length);
    })()).rejects.toThrow('limit');
    expect(read).toEqual([4, 4]);
  });
});

describe('resolveImportFormat', () => {
  it.each([
    ['application/json; charset=utf-8', undefined, 'json'],
    ['application/x-ndjson', undefined, 'jsonl'],
    ['application/jsonl', undefined, 'jsonl'],
    ['text/csv', undefined, 'csv'],
    ['application/x-www-form-urlencoded', 'CSV', 'csv'],
    [undefined, 'ndjson', 'jsonl'],
  ])('%s with ?format=%s is %s', (ct, f, expected) => {
    expect(resolveImportFormat(ct, f)).toBe(expected);
  });

  it('names the format field when it cannot tell', () => {
    expect(() => resolveImportFormat('text/plain', undefined)).toThrow(expect.objectContaining({ code: 'IMPORT_FORMAT_UNKNOWN', kind: 'invalid' }));
    expect(() => resolveImportFormat(undefined, 'xml')).toThrow(/unknown import format "xml"/);
  });
});
