import { createAdmin, createTestApp, seedCampaign, signUp, TestApp, TestUser } from '@tally/testing';

/**
 * Type-specific result downloads next to JSONL/CSV: COCO for box campaigns and CoNLL (token TAB
 * BIO tag, blank line between items) for span campaigns. Two workers answer each item through
 * the real work API, the tasks complete with their consensus, and the downloads are parsed and
 * checked against what was drawn / tagged. Only the owner or an admin may download; a format that
 * does not fit the task type is a 400 naming `format`; gold items never appear.
 */
describe('result exports: COCO and CoNLL (e2e)', () => {
  let t: TestApp;
  let owner: TestUser;
  let other: TestUser;
  let admin: TestUser;
  let workers: TestUser[];
  beforeAll(async () => {
    t = await createTestApp();
    owner = await signUp(t, ['requester']);
    other = await signUp(t, ['requester']);
    admin = await createAdmin(t);
    workers = [await signUp(t, ['worker']), await signUp(t, ['worker'])];
  });
  afterAll(() => t.close());

  /** Every worker claims until nothing is left, answering with `answerFor(payload)`. */
  async function work(campaignId: string, answerFor: (payload: Record<string, unknown>) => unknown): Promise<number> {
    let submitted = 0;
    for (const w of workers) {
      for (;;) {
        const c = await t.http.post(`/api/work/campaigns/${campaignId}/claim`).set(w.auth);
        if (c.status === 409) break;
        expect(c.status).toBe(200);
        await t.http.post(`/api/work/assignments/${c.body.assignmentId}/submit`).set(w.auth).send({ answer: answerFor(c.body.payload) }).expect(200);
        submitted++;
      }
    }
    return submitted;
  }

  it('COCO for a box campaign: images, categories, annotations with bbox [x,y,w,h] and score = confidence', async () => {
    const drawn: Record<string, { x: number; y: number; w: number; h: number; label: string }[]> = {
      'https://example.com/images/street%201.jpg': [
        { x: 10, y: 20, w: 30, h: 40, label: 'car' },
        { x: 100, y: 50, w: 20, h: 60, label: 'person' },
      ],
      'https://example.com/images/park.png': [{ x: 5, y: 5, w: 50, h: 25, label: 'person' }],
    };
    const items = Object.keys(drawn).map((imageUrl) => ({ payload: { imageUrl, width: 640, height: 480 } }));
    const c = await seedCampaign(t, owner.id, { taskType: 'boxes', labels: ['car', 'person'], redundancyMin: 2, redundancyMax: 2 }, [
      ...items,
      { payload: { imageUrl: 'https://example.com/images/gold-secret.jpg', width: 640, height: 480 }, gold: { boxes: [{ x: 1, y: 1, w: 2, h: 2, label: 'car' }] } },
    ]);
    expect(await work(c.id, (p) => ({ boxes: drawn[p.imageUrl as string] }))).toBe(4);

    const res = await t.http.get(`/api/campaigns/${c.id}/results`).query({ format: 'coco' }).set(owner.auth).expect(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['content-disposition']).toContain(`results-${c.id}.coco.json`);
    const coco = JSON.parse(res.text);
    expect(coco.categories).toEqual([
      { id: 1, name: 'car', supercategory: 'object' },
      { id: 2, name: 'person', supercategory: 'object' },
    ]);
    expect(coco.images).toHaveLength(2);
    expect(res.text).not.toContain('gold-secret');
    const jsonl = (await t.http.get(`/api/campaigns/${c.id}/results`).query({ format: 'jsonl' }).set(owner.auth).expect(200)).text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const imageIds = new Set<number>();
    for (const img of coco.images) {
      const task = jsonl.find((r) => r.taskId === img.tally_task_id);
      expect(task).toBeDefined();
      expect(img).toMatchObject({ id: task.seq, coco_url: task.payload.imageUrl, width: 640, height: 480 });
      expect(img.file_name).toBe(decodeURIComponent(new URL(img.coco_url).pathname.split('/').pop()!));
      imageIds.add(img.id);
      const anns = coco.annotations.filter((a: { image_id: number }) => a.image_id === img.id);
      const want = drawn[img.coco_url];
      expect(anns).toHaveLength(want.length);
      for (const b of want) {
        const a = anns.find((x: { bbox: number[] }) => x.bbox[0] === b.x && x.bbox[1] === b.y);
        expect(a).toMatchObject({ bbox: [b.x, b.y, b.w, b.h], area: b.w * b.h, iscrowd: 0, category_id: b.label === 'car' ? 1 : 2 });
        expect(a.score).toBe(task.confidence);
        expect(a.score).toBeGreaterThan(0);
      }
    }
    expect(new Set(coco.annotations.map((a: { id: number }) => a.id)).size).toBe(3);
    expect(coco.annotations.every((a: { image_id: number }) => imageIds.has(a.image_id))).toBe(true);

    // CoNLL does not fit boxes: 400 naming the field
    const bad = await t.http.get(`/api/campaigns/${c.id}/results`).query({ format: 'conll' }).set(owner.auth).expect(400);
    expect(JSON.stringify(bad.body)).toContain('format');
    await t.http.get(`/api/campaigns/${c.id}/results`).query({ format: 'pascal' }).set(owner.auth).expect(400);
    // only the owner, or an admin
    await t.http.get(`/api/campaigns/${c.id}/results`).query({ format: 'coco' }).set(other.auth).expect(404);
    await t.http.get(`/api/campaigns/${c.id}/results`).query({ format: 'coco' }).set(workers[0].auth).expect(403);
    await t.http.get(`/api/campaigns/${c.id}/results`).query({ format: 'coco' }).expect(401);
    const asAdmin = await t.http.get(`/api/campaigns/${c.id}/results`).query({ format: 'coco' }).set(admin.auth).expect(200);
    expect(JSON.parse(asAdmin.text).annotations).toHaveLength(3);
  });

  it('CoNLL for a span campaign: one token per line with its BIO tag, a blank line between items', async () => {
    const texts = ['Alice met Bob in New York.', 'Nothing to see here', 'ProfAlice called'];
    const spansOf: Record<string, { start: number; end: number; label: string }[]> = {
      [texts[0]]: [
        { start: 0, end: 5, label: 'PER' },
        { start: 10, end: 13, label: 'PER' },
        { start: 17, end: 25, label: 'LOC' },
      ],
      [texts[1]]: [],
      // a span that starts inside a "word": the token is cut at the span's boundary
      [texts[2]]: [{ start: 4, end: 9, label: 'PER' }],
    };
    const c = await seedCampaign(t, owner.id, { taskType: 'spans', labels: ['PER', 'LOC'], redundancyMin: 2, redundancyMax: 2 }, [
      ...texts.map((text) => ({ payload: { text } })),
      { payload: { text: 'Gold secret sentence' }, gold: { spans: [] } },
    ]);
    expect(await work(c.id, (p) => ({ spans: spansOf[p.text as string] }))).toBe(6);

    const res = await t.http.get(`/api/campaigns/${c.id}/results`).query({ format: 'conll' }).set(owner.auth).expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.text).not.toContain('Gold secret');
    expect(res.text.endsWith('\n\n')).toBe(true);
    const blocks = res.text.trim().split(/\n\n/);
    expect(blocks).toHaveLength(3);
    const jsonl = (await t.http.get(`/api/campaigns/${c.id}/results`).set(owner.auth).expect(200)).text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const parsed = new Map<string, [string, string][]>();
    for (const b of blocks) {
      const [head, ...lines] = b.split('\n');
      const m = /^# task_id = ([0-9a-f-]{36})$/.exec(head);
      expect(m).not.toBeNull();
      const text = jsonl.find((r) => r.taskId === m![1]).payload.text as string;
      parsed.set(text, lines.map((l) => l.split('\t') as [string, string]));
      for (const l of lines) expect(l.split('\t')).toHaveLength(2);
    }
    expect(parsed.get(texts[0])).toEqual([
      ['Alice', 'B-PER'],
      ['met', 'O'],
      ['Bob', 'B-PER'],
      ['in', 'O'],
      ['New', 'B-LOC'],
      ['York', 'I-LOC'],
      ['.', 'O'],
    ]);
    expect(parsed.get(texts[1])!.map(([, tag]) => tag)).toEqual(['O', 'O', 'O', 'O']);
    expect(parsed.get(texts[2])).toEqual([
      ['Prof', 'O'],
      ['Alice', 'B-PER'],
      ['called', 'O'],
    ]);

    const bad = await t.http.get(`/api/campaigns/${c.id}/results`).query({ format: 'coco' }).set(owner.auth).expect(400);
    expect(JSON.stringify(bad.body)).toContain('format');
    await t.http.get(`/api/campaigns/${c.id}/results`).query({ format: 'conll' }).set(other.auth).expect(404);
    await t.http.get(`/api/campaigns/${c.id}/results`).query({ format: 'conll' }).set(admin.auth).expect(200);
  });
});
