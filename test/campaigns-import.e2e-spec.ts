import { createTestApp, signUp, TestApp, TestUser } from '@tally/testing';

type Row = { line: number; field?: string; problem: string };

describe('campaign item imports (e2e)', () => {
  let t: TestApp;
  let req: TestUser;
  beforeAll(async () => {
    t = await createTestApp();
    req = await signUp(t, ['requester']);
  });
  afterAll(() => t.close());

  const create = async (over: Record<string, unknown> = {}) => {
    const res = await t.http
      .post('/api/campaigns')
      .set(req.auth)
      .send({ name: 'Import me', taskType: 'single-label', labels: ['pos', 'neg'], rewardMinor: 5, currency: 'usd', redundancyMin: 2, ...over });
    if (res.status !== 201) throw new Error(`create failed: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.id as string;
  };
  const upload = (id: string, contentType: string, body: string, query: Record<string, string> = {}) =>
    t.http.post(`/api/campaigns/${id}/items`).query(query).set(req.auth).set('Content-Type', contentType).send(body);
  const tasks = async (id: string) => (await t.http.get(`/api/campaigns/${id}/tasks`).query({ limit: 200 }).set(req.auth).expect(200)).body;
  const lines = (rows: unknown[]) => rows.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n');
  const problemsByLine = (errors: Row[]) => errors.map((e) => [e.line, e.field ?? null]);

  it('imports JSONL: good rows in, bad rows reported by line, duplicates skipped and counted', async () => {
    const id = await create();
    const body = lines([
      { payload: { text: 'first' }, gold: { label: 'pos' }, prelabel: { label: 'neg' } }, // 1 ok (wrapped)
      { text: 'second', sourceId: 'r2' }, // 2 ok (flat)
      '{"text": "broken', // 3 bad JSON
      '', // 4 blank: skipped, not a row
      { text: 42 }, // 5 wrong type
      { note: 'no text or image' }, // 6 missing field
      { text: 'gold off the label set', gold: { label: 'meh' } }, // 7 bad gold
      { text: 'first' }, // 8 duplicate within the file (same payload as line 1)
      { payload: { text: 'x' }, extra: true }, // 9 unknown row field
      '"just a string"', // 10 not an object
      { text: 'third' }, // 11 ok
    ]);
    const res = await upload(id, 'application/x-ndjson', body).expect(201);
    expect(res.body).toMatchObject({ format: 'jsonl', rows: 10, inserted: 3, duplicates: 1, rejected: 6, errorsTruncated: false });
    expect(problemsByLine(res.body.errors)).toEqual([
      [3, null],
      [5, 'text'],
      [6, 'row'],
      [7, 'gold.label'],
      [9, 'extra'],
      [10, 'row'],
    ]);
    expect(res.body.errors[0].problem).toMatch(/not valid JSON/);
    expect(res.body.durationMs).toBeGreaterThan(0);
    expect(res.body.rowsPerSecond).toBeGreaterThan(0);

    const list = await tasks(id);
    expect(list.total).toBe(3);
    expect(list.items[0]).toMatchObject({ payload: { text: 'first' }, gold: { label: 'pos' }, prelabel: { label: 'neg' }, needed: 2, taken: 0, status: 'gold', consensus: null });
    expect(list.items.map((x: { seq: number }) => x.seq)).toEqual([...list.items.map((x: { seq: number }) => x.seq)].sort((a, b) => a - b));

    // Again, with one new row: everything already there counts as a duplicate of an existing task.
    const again = await upload(id, 'application/jsonl', lines([{ text: 'second', sourceId: 'r2' }, { payload: { text: 'first' } }, { text: 'fourth' }])).expect(201);
    expect(again.body).toMatchObject({ rows: 3, inserted: 1, duplicates: 2, rejected: 0, errors: [] });
    // key order does not make a new item
    const reordered = await upload(id, 'application/x-ndjson', '{"sourceId":"r2","text":"second"}').expect(201);
    expect(reordered.body).toMatchObject({ inserted: 0, duplicates: 1 });

    const reports = await t.http.get(`/api/campaigns/${id}/imports`).set(req.auth).expect(200);
    expect(reports.body.total).toBe(3);
    expect(reports.body.items[2]).toMatchObject({ importId: res.body.importId, rows: 10, inserted: 3, rejected: 6, errors: res.body.errors });
  });

  it('imports a JSON array with the line each element starts on', async () => {
    const id = await create();
    const body = `[
  {"payload": {"text": "a"}},
  {"text": "b",
   "gold": {"label": "neg"}},
  {"text": ""},
  {"text": "a"},
  {"imageUrl": "ftp://nope"},
  {"imageUrl": "https://img.test/1.png"}
]`;
    const res = await upload(id, 'application/json', body).expect(201);
    expect(res.body).toMatchObject({ format: 'json', rows: 6, inserted: 3, duplicates: 1, rejected: 2 });
    expect(problemsByLine(res.body.errors)).toEqual([
      [5, 'text'],
      [7, 'imageUrl'],
    ]);
  });

  it('imports CSV: columns are payload fields, gold as a bare label or JSON, line numbers count the header', async () => {
    const id = await create();
    const csv = [
      'text,gold,prelabel,source',
      'good one,pos,,s1',
      '"quoted, with comma",,"{""label"":""neg""}",s2',
      'bad gold,maybe,,s3',
      'too,many,columns,here,extra',
      '"spans',
      'two lines",neg,,s4',
      'good one,pos,,s1',
      ',,,s5',
    ].join('\r\n');
    const res = await upload(id, 'text/csv', csv).expect(201);
    expect(res.body).toMatchObject({ format: 'csv', rows: 7, inserted: 3, duplicates: 1, rejected: 3 });
    expect(problemsByLine(res.body.errors)).toEqual([
      [4, 'gold.label'],
      [5, null],
      [9, 'row'],
    ]);
    const list = await tasks(id);
    expect(list.items.map((x: { payload: unknown; gold: unknown; prelabel: unknown }) => [x.payload, x.gold, x.prelabel])).toEqual([
      [{ text: 'good one', source: 's1' }, { label: 'pos' }, null],
      [{ text: 'quoted, with comma', source: 's2' }, null, { label: 'neg' }],
      [{ text: 'spans\r\ntwo lines', source: 's4' }, { label: 'neg' }, null],
    ]);
  });

  it('strict mode rejects the whole file, rolls everything back and keeps the report', async () => {
    const id = await create();
    const rows = Array.from({ length: 1500 }, (_, i) => ({ text: `item ${i}` }));
    rows.push({ text: 'bad', gold: { label: 'nope' } } as never);
    const res = await upload(id, 'application/x-ndjson', lines(rows), { strict: 'true' }).expect(422);
    expect(res.body).toMatchObject({ code: 'IMPORT_REJECTED', report: { rows: 1501, inserted: 0, rejected: 1, errors: [{ line: 1501, field: 'gold.label' }] } });
    expect((await tasks(id)).total).toBe(0);
    const reports = await t.http.get(`/api/campaigns/${id}/imports`).set(req.auth).expect(200);
    expect(reports.body.items[0]).toMatchObject({ importId: res.body.report.importId, inserted: 0, rejected: 1 });
    // a clean file under strict imports normally
    const ok = await upload(id, 'application/x-ndjson', lines(rows.slice(0, 10)), { strict: 'true' }).expect(201);
    expect(ok.body).toMatchObject({ inserted: 10, rejected: 0 });
  });

  it('never half-writes: a file that breaks after the first batches imports nothing', async () => {
    const id = await create();
    const good = Array.from({ length: 2500 }, (_, i) => JSON.stringify({ text: `row ${i}` })).join(',\n');
    const res = await upload(id, 'application/json', `[\n${good},\n{"text": "cut off`).expect(422);
    expect(res.body).toMatchObject({ code: 'IMPORT_FILE_MALFORMED' });
    expect((await tasks(id)).total).toBe(0);
    const csv = await upload(id, 'text/csv', 'text\na\n"unclosed\n').expect(422);
    expect(csv.body.message).toMatch(/line 3/);
    expect((await tasks(id)).total).toBe(0);
  });

  it('answers a file that breaks early with a 422, not a reset connection, and stays usable', async () => {
    const id = await create();
    const tail = `,{"text":"${'x'.repeat(1000)}"}`.repeat(3000); // ~3 MB the server never needs to parse
    const res = await upload(id, 'application/json', `[{"text":"a"}] oops ${tail}]`).expect(422);
    expect(res.body).toMatchObject({ code: 'IMPORT_FILE_MALFORMED', message: expect.stringMatching(/^line 1: unexpected text after the closing/) });
    const csv = await upload(id, 'text/csv', `text,text\n${'a,b\n'.repeat(200_000)}`).expect(422);
    expect(csv.body.message).toMatch(/repeats the column/);
    await upload(id, 'application/x-ndjson', '{"text":"still fine"}').expect(201);
    expect((await tasks(id)).total).toBe(1);
  });

  it('caps the error list but counts every bad row', async () => {
    const id = await create();
    const res = await upload(id, 'application/x-ndjson', Array.from({ length: 1200 }, () => '{"text": 1}').join('\n')).expect(201);
    expect(res.body).toMatchObject({ rows: 1200, rejected: 1200, inserted: 0, errorsTruncated: true });
    expect(res.body.errors).toHaveLength(1000);
    expect(res.body.errors[999].line).toBe(1000);
  });

  it('chooses the format from Content-Type or ?format, and names the field when it cannot', async () => {
    const id = await create();
    const viaQuery = await upload(id, 'application/octet-stream', 'text\nhello\n', { format: 'csv' }).expect(201);
    expect(viaQuery.body).toMatchObject({ format: 'csv', inserted: 1 });
    const unknown = await upload(id, 'text/plain', 'hello').expect(400);
    expect(unknown.body).toMatchObject({ code: 'IMPORT_FORMAT_UNKNOWN', fields: [{ field: 'format' }] });
    await upload(id, 'text/csv', 'x', { format: 'xml' }).expect(400);
    await upload(id, 'text/csv', 'x', { strict: 'maybe' }).expect(400);
    const worker = await signUp(t, ['worker']);
    await t.http.post(`/api/campaigns/${id}/items`).set(worker.auth).set('Content-Type', 'text/csv').send('text\na').expect(403);
  });

  describe('the five task types', () => {
    const img = 'https://img.test/p.png';
    it('single-label and multi-label: text or image; gold label(s) from the set', async () => {
      const multi = await create({ taskType: 'multi-label', labels: ['cat', 'dog'] });
      const res = await upload(
        multi,
        'application/x-ndjson',
        lines([
          { imageUrl: img, gold: { labels: ['cat', 'dog'] } },
          { text: 'both', gold: { labels: [] } },
          { text: 'x', gold: { labels: ['cow'] } },
          { text: 'y', gold: { label: 'cat' } },
          { text: 'z', prelabel: { labels: ['dog', 'dog'] } },
        ]),
      ).expect(201);
      expect(res.body).toMatchObject({ inserted: 2, rejected: 3 });
      expect(problemsByLine(res.body.errors)).toEqual([
        [3, 'gold.labels[0]'],
        [4, 'gold.label'],
        [4, 'gold.labels'],
        [5, 'prelabel.labels'],
      ]);
    });

    it('boxes: image URL with integer width/height; gold boxes inside the image with known classes', async () => {
      const id = await create({ taskType: 'boxes', labels: ['car', 'bike'] });
      const res = await upload(
        id,
        'application/x-ndjson',
        lines([
          { imageUrl: img, width: 640, height: 480, gold: { boxes: [{ x: 10, y: 10, w: 100, h: 50, label: 'car' }] } },
          { imageUrl: img, width: 640 },
          { text: 'no image', width: 10, height: 10 },
          { imageUrl: `${img}?2`, width: 100, height: 100, gold: { boxes: [{ x: 50, y: 50, w: 60, h: 10, label: 'car' }] } },
          { imageUrl: `${img}?3`, width: 100, height: 100, gold: { boxes: [{ x: 0, y: 0, w: 0, h: 10, label: 'truck' }] } },
        ]),
      ).expect(201);
      expect(res.body).toMatchObject({ inserted: 1, rejected: 4 });
      expect(problemsByLine(res.body.errors)).toEqual([
        [2, 'height'],
        [3, 'imageUrl'],
        [4, 'gold.boxes[0]'],
        [5, 'gold.boxes[0]'],
        [5, 'gold.boxes[0].label'],
      ]);
      // CSV: width/height cells are numbers, gold is JSON
      const csv = await upload(id, 'text/csv', `imageUrl,width,height,gold\n${img}?csv,64,48,"{""boxes"":[{""x"":1,""y"":1,""w"":2,""h"":2,""label"":""bike""}]}"\n`).expect(201);
      expect(csv.body).toMatchObject({ inserted: 1, rejected: 0 });
    });

    it('spans: text required; gold spans inside it, ordered, disjoint, known entity types', async () => {
      const id = await create({ taskType: 'spans', labels: ['PER', 'LOC'] });
      const res = await upload(
        id,
        'application/x-ndjson',
        lines([
          { text: 'Ada lives in Paris', gold: { spans: [{ start: 0, end: 3, label: 'PER' }, { start: 13, end: 18, label: 'LOC' }] } },
          { imageUrl: img },
          { text: 'Bob', gold: { spans: [{ start: 0, end: 10, label: 'PER' }] } },
          { text: 'Bob and Al', gold: { spans: [{ start: 0, end: 5, label: 'PER' }, { start: 2, end: 4, label: 'PER' }] } },
          { text: 'Bob', gold: { spans: [{ start: 0, end: 3, label: 'ORG' }] } },
        ]),
      ).expect(201);
      expect(res.body).toMatchObject({ inserted: 1, rejected: 4 });
      expect(problemsByLine(res.body.errors)).toEqual([
        [2, 'text'],
        [3, 'gold.spans[0]'],
        [4, 'gold.spans[1]'],
        [5, 'gold.spans[0].label'],
      ]);
    });

    it('text: free-text answers within maxTextLength; no label set', async () => {
      const id = await create({ taskType: 'text', labels: [], maxTextLength: 10 });
      const res = await upload(
        id,
        'application/x-ndjson',
        lines([{ text: 'translate me', gold: { text: 'traduis' } }, { imageUrl: img, prelabel: { text: 'a caption too long' } }, { text: 'blank', gold: { text: '  ' } }]),
      ).expect(201);
      expect(res.body).toMatchObject({ inserted: 1, rejected: 2 });
      expect(problemsByLine(res.body.errors)).toEqual([
        [2, 'prelabel.text'],
        [3, 'gold.text'],
      ]);
    });
  });
});
