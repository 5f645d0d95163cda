import { readFileSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { deflateSync } from 'node:zlib';
import { CreateHITCommand, GetAccountBalanceCommand, ListAssignmentsForHITCommand, MTurkClient } from '@aws-sdk/client-mturk';
import { Page } from 'playwright-core';
import { createAdmin, createTestApp, dataSourceOf, seedCampaign, signUp, startFakeStripe, TestApp, TestUser } from '@tally/testing';
import { BrowserHarness, startBrowser } from './browser-harness';

/**
 * The browser UI end to end in Debian's Chromium: a requester creates, (funds,) fills and
 * publishes campaigns; three workers label in the browser (label keys, a drawn box, tagged spans,
 * multi-label, free text); the requester sees consensus, reviews and exports; an admin opens the
 * admin pages. Screenshots of each main page go to test-artifacts/screenshots/.
 *
 * Chromium must launch: if it cannot, this test fails (it never skips).
 */
const PASSWORD = 'correct horse battery';
/** Unique per run: other suites create campaigns with similar names in the same database at the same time. */
const CAMPAIGN = `Review sentiment ${Date.now().toString(36)}`;
const IMG_W = 320;
const IMG_H = 200;

jest.setTimeout(180_000); // the whole-flow test drives four browser sessions through ~30 pages

// Functions passed to page.evaluate / waitForFunction run in the browser; the Nest tsconfig has no
// DOM lib, so the few browser globals they use are declared here, for this file only.
/* eslint-disable @typescript-eslint/no-explicit-any */
declare const document: any;
declare const NodeFilter: any;
type Node = any;
type SVGSVGElement = any;

/** A PNG of IMG_W × IMG_H: sky, ground and a red "car", encoded by hand (no image library). */
function makePng(): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (b: Buffer) => {
    let c = 0xffffffff;
    for (const x of b) c = crcTable[(c ^ x) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type), data]);
    const c = Buffer.alloc(4);
    c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const raw = Buffer.alloc((IMG_W * 3 + 1) * IMG_H);
  for (let y = 0; y < IMG_H; y++) {
    raw[y * (IMG_W * 3 + 1)] = 0;
    for (let x = 0; x < IMG_W; x++) {
      const car = x >= 80 && x < 200 && y >= 90 && y < 150;
      const rgb = car ? [200, 40, 40] : y > 140 ? [120, 170, 100] : [190, 215, 240];
      raw.set(rgb, y * (IMG_W * 3 + 1) + 1 + x * 3);
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(IMG_W, 0);
  ihdr.writeUInt32BE(IMG_H, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

describe('browser UI (e2e, Chromium)', () => {
  let t: TestApp;
  let base: string;
  let images: Server;
  let imageUrl: string;
  let h: BrowserHarness;
  let consoleErrors: string[];
  let a11yProblems: string[];

  beforeAll(async () => {
    h = await startBrowser({ ignoreStatuses: [401, 404, 409] }); // statuses the flow provokes on purpose
    ({ consoleErrors, a11yProblems } = h);
    const png = makePng();
    images = createServer((req, res) => {
      res.writeHead(req.url === '/car.png' ? 200 : 404, { 'Content-Type': 'image/png', 'Access-Control-Allow-Origin': '*' });
      res.end(req.url === '/car.png' ? png : undefined);
    });
    await new Promise<void>((r) => images.listen(0, '127.0.0.1', r));
    imageUrl = `http://127.0.0.1:${(images.address() as AddressInfo).port}/car.png`;
    t = await createTestApp({ IMAGE_PROXY_ALLOW_HOSTS: new URL(imageUrl).host }); // the test's image server is on loopback
    await t.app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await h?.close();
    await t?.close();
    await new Promise((r) => (images ? images.close(r) : r(undefined)));
  });

  const newPage = () => h.newPage({ acceptDownloads: true });
  const shot = (page: Page, name: string) => h.shot(page, name);

  async function signUpInBrowser(page: Page, name: string, role: 'worker' | 'requester', at = base): Promise<string> {
    const email = `${name.toLowerCase().replace(/\W+/g, "-")}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@test.tally`;
    await page.goto(`${at}/signup`);
    await page.getByLabel('Name shown to others').fill(name);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel(/^Password/).fill(PASSWORD);
    if (role === 'requester') {
      await page.locator('input[name=role-worker]').uncheck();
      await page.locator('input[name=role-requester]').check();
    }
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.waitForURL(role === 'requester' ? /\/campaigns$/ : /\/work$/);
    return email;
  }

  async function login(email: string): Promise<TestUser> {
    const res = await t.http.post('/api/auth/login').send({ email, password: PASSWORD }).expect(200);
    return { id: res.body.user.id, email, token: res.body.accessToken, refreshToken: res.body.refreshToken, auth: { Authorization: `Bearer ${res.body.accessToken}` } };
  }

  /** The assignment shown now; resolves when a different one (or the empty state) replaces `previous`. */
  async function nextTask(page: Page, previous?: string | null): Promise<string | null> {
    await page.waitForFunction(
      (prev) => {
        const w = document.querySelector('.task-widget');
        const main = document.querySelector('.task-main');
        if (main?.getAttribute('data-phase') === 'empty') return true;
        return main?.getAttribute('data-phase') === 'ready' && !!w && w.getAttribute('data-assignment') !== prev;
      },
      previous ?? null,
    );
    return page.locator('.task-widget').getAttribute('data-assignment').catch(() => null);
  }
  const expectEmpty = (page: Page) => page.getByRole('heading', { name: 'No more tasks here for now' }).waitFor();

  /** Drags the mouse across characters [a, b) of the span widget's text. */
  async function dragSelect(page: Page, a: number, b: number) {
    const [from, to] = await page.evaluate(
      ([s, e]) => {
        const root = document.querySelector('[data-testid=span-text]')!;
        const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
        const at = (offset: number) => {
          let n: Node | null;
          let seen = 0;
          while ((n = walker.nextNode())) {
            const len = n.textContent!.length;
            if (offset < seen + len) {
              const r = document.createRange();
              r.setStart(n, offset - seen);
              r.setEnd(n, offset - seen + 1);
              const box = r.getBoundingClientRect();
              walker.currentNode = root;
              return { x: box.left + box.width / 2, y: box.top + box.height / 2 };
            }
            seen += len;
          }
          throw new Error(`offset ${offset} out of range`);
        };
        return [at(s), at(e - 1)];
      },
      [a, b],
    );
    await page.mouse.move(from.x, from.y);
    await page.mouse.down();
    await page.mouse.move(to.x, to.y, { steps: 5 });
    await page.mouse.up();
  }

  it('runs the whole marketplace flow in the browser', async () => {
    try {
      await wholeFlow();
    } catch (e) {
      // Leave a picture of every open page for whoever reads the failure.
      await h.shootAll('failure');
      throw e;
    }
  });

  async function wholeFlow() {
    const started = Date.now();
    const admin = await createAdmin(t);

    // ── Requester: sign up, create a single-label campaign with the wizard, upload, publish ──
    const rq = await newPage();
    await rq.goto(`${base}/signup`);
    await shot(rq, '01-sign-up');
    const requesterEmail = await signUpInBrowser(rq, 'Rita Requester', 'requester');
    const requester = await login(requesterEmail);
    await shot(rq, '02-requester-campaigns');

    await rq.getByRole('link', { name: 'New campaign' }).click();
    await rq.getByLabel('Campaign name').fill(CAMPAIGN);
    await rq.getByLabel(/Single label/).check();
    await rq.getByLabel(/Labels \(one per line\)/).fill('positive\nnegative\nneutral');
    await rq.getByRole('button', { name: 'Next' }).click();
    await rq.getByLabel('Instructions for workers').fill('Read the review and choose its overall sentiment.\nMixed feelings → neutral.');
    await see(rq.locator('.preview .label-button')).toHaveCount(3);
    await shot(rq, '03-wizard-instructions-preview');
    await rq.getByRole('button', { name: 'Next' }).click();
    await rq.getByLabel('Reward per approved answer').fill('0.10');
    await rq.getByLabel('Answers per item: at least').fill('3');
    await rq.getByLabel('at most', { exact: true }).fill('3');
    await rq.getByRole('button', { name: 'Next' }).click();
    await rq.getByRole('button', { name: 'Next' }).click();
    await rq.getByRole('button', { name: 'Create campaign (draft)' }).click();
    await rq.waitForURL(/\/campaigns\/[0-9a-f-]{36}$/);
    const sentimentId = rq.url().split('/').pop()!;

    const csv = 'text\n"I love it, works perfectly"\n"Broke after two days"\n"Broke after two days"\n""\n';
    await rq.locator('input[type=file][name=items]').setInputFiles({ name: 'reviews.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await rq.getByRole('button', { name: 'Upload' }).click();
    const report = rq.getByRole('status', { name: 'Validation report' });
    await report.waitFor();
    await see(report.locator('.stat').nth(1)).toContainText('2imported');
    await see(report.locator('.stat').nth(2)).toContainText('1duplicates');
    await see(report.locator('.stat').nth(3)).toContainText('1rejected');
    await see(report.locator('tbody tr')).toHaveCount(1);
    await shot(rq, '04-campaign-upload-report');

    // Funding: without Stripe the funding page says an admin credits by hand; the admin does.
    await rq.getByRole('link', { name: 'Funding' }).click();
    await rq.getByRole('heading', { name: 'Funding' }).waitFor();
    await see(rq.locator('main')).toContainText('Card payments are not enabled on this server');
    const credit = await t.http
      .post('/api/admin/ledger/credits')
      .set(admin.auth)
      .send({ userId: requester.id, amountMinor: 100_00, currency: 'usd', reason: 'e2e funding' });
    const funded = credit.status === 200 || credit.status === 201;
    if (!funded) expect(credit.status).toBe(404); // not there yet: publish needs no funds then
    await rq.reload();
    if (funded) await see(rq.locator('.stats')).toContainText('$100.00');
    await shot(rq, '19-requester-funding');
    await rq.goBack();
    await rq.getByRole('button', { name: 'Upload' }).waitFor();

    await rq.getByRole('button', { name: 'Publish' }).click();
    await rq.locator('.badge-published').first().waitFor();

    // Boxes, spans, multi-label and text campaigns through the API (the wizard is covered above).
    const mk = async (body: Record<string, unknown>, items: unknown[]) => {
      const c = await t.http
        .post('/api/campaigns')
        .set(requester.auth)
        .send({ rewardMinor: 5, currency: 'usd', redundancyMin: 3, redundancyMax: 3, instructions: 'Be precise.', ...body })
        .expect(201);
      await t.http.post(`/api/campaigns/${c.body.id}/items`).set(requester.auth).set('Content-Type', 'application/json').send(JSON.stringify(items)).expect(201);
      await t.http.post(`/api/campaigns/${c.body.id}/publish`).set(requester.auth).expect(200);
      return c.body.id as string;
    };
    const boxesId = await mk({ name: 'Cars on the street', taskType: 'boxes', labels: ['car', 'person'], instructions: 'Draw a tight box around each car.' }, [
      { imageUrl, width: IMG_W, height: IMG_H },
    ]);
    const SPAN_TEXT = 'Ada Lovelace met Charles Babbage in London in 1833.';
    const spansId = await mk({ name: 'People and places', taskType: 'spans', labels: ['PERSON', 'PLACE'] }, [{ text: SPAN_TEXT }]);
    const multiId = await mk({ name: 'Review topics', taskType: 'multi-label', labels: ['price', 'quality', 'shipping'], redundancyMin: 1, redundancyMax: 1 }, [
      { text: 'Cheap, but it arrived late.' },
    ]);
    const textId = await mk({ name: 'Caption it', taskType: 'text', labels: [], redundancyMin: 1, redundancyMax: 1 }, [{ text: 'Write a caption for: a red car.' }]);

    // ── Three workers label in the browser ──
    const workers: { page: Page; email: string }[] = [];
    for (let i = 1; i <= 3; i++) {
      const page = await newPage();
      workers.push({ page, email: await signUpInBrowser(page, `Worker ${i}`, 'worker') });
    }
    const [w1] = workers;
    await w1.page.getByRole('heading', { name: CAMPAIGN, exact: true }).waitFor();
    const sentimentCard = w1.page.locator('.campaign-card', { hasText: CAMPAIGN });
    await see(sentimentCard.getByTestId('estimate')).toContainText('time per task not known yet');
    await see(sentimentCard.getByTestId('requirements')).toContainText('open to every worker');
    await shot(w1.page, '05-worker-campaigns');

    for (const [i, { page }] of workers.entries()) {
      // Single-label: number keys and Enter. Worker 3 disagrees on the second review.
      await page.goto(`${base}/work/${sentimentId}`);
      let a = await nextTask(page);
      const firstText = await page.locator('.item-text').textContent();
      await page.keyboard.press(firstText!.includes('love') ? '1' : '2');
      await see(page.getByRole('radio', { checked: true })).toHaveCount(1);
      if (i === 0) await shot(page, '06-task-single-label');
      const before = await page.locator('.task-main').boundingBox();
      await page.keyboard.press('Enter');
      a = await nextTask(page, a);
      // The next task replaces the last one in place: the work area neither moves nor resizes.
      expect(await page.locator('.task-main').boundingBox()).toEqual(before);
      const secondText = await page.locator('.item-text').textContent();
      const label = secondText!.includes('love') ? '1' : i === 2 ? '3' : '2';
      await page.keyboard.press(label);
      await page.keyboard.press('Enter');
      await nextTask(page, a);
      await expectEmpty(page);

      // Boxes: draw with the mouse (worker 1 also draws a stray box and deletes it with Delete).
      await page.goto(`${base}/work/${boxesId}`);
      await nextTask(page);
      const canvas = page.getByTestId('boxes-canvas');
      await page.waitForFunction(() => (document.querySelector('[data-testid=boxes-canvas]') as SVGSVGElement | null)?.getBoundingClientRect().width! > 100);
      const bb = (await canvas.boundingBox())!;
      const px = (x: number, y: number) => ({ x: bb.x + (x / IMG_W) * bb.width, y: bb.y + (y / IMG_H) * bb.height });
      if (i === 0) {
        const s = px(250, 20);
        const e = px(300, 60);
        await page.mouse.move(s.x, s.y);
        await page.mouse.down();
        await page.mouse.move(e.x, e.y, { steps: 4 });
        await page.mouse.up();
        await see(page.locator('.box-list li')).toHaveCount(1);
        await page.keyboard.press('Delete');
        await see(page.locator('.box-list li')).toHaveCount(0);
      }
      const s = px(80, 90);
      const e = px(200, 150);
      await page.mouse.move(s.x, s.y);
      await page.mouse.down();
      await page.mouse.move(e.x, e.y, { steps: 6 });
      await page.mouse.up();
      await see(page.locator('.box-list li')).toHaveCount(1);
      await see(page.locator('.box-list li').first()).toContainText('car');
      if (i === 0) {
        await page.getByRole('button', { name: 'Zoom in' }).click();
        await see(page.locator('.zoom output')).toHaveText('125%');
        await page.getByRole('button', { name: 'Fit' }).click();
        await shot(page, '07-task-boxes');
      }
      await page.getByTestId('submit').click();
      await expectEmpty(page);

      // Spans: drag-select part of a name (snaps to whole words), switch type with a key, tag a place.
      await page.goto(`${base}/work/${spansId}`);
      await nextTask(page);
      await dragSelect(page, SPAN_TEXT.indexOf('Ada') + 1, SPAN_TEXT.indexOf('Lovelace') + 4); // "da Love" → "Ada Lovelace"
      await see(page.locator('mark.span-tag')).toHaveCount(1);
      await see(page.locator('mark.span-tag').first()).toHaveText('Ada Lovelace');
      await page.keyboard.press('2');
      await dragSelect(page, SPAN_TEXT.indexOf('London') + 1, SPAN_TEXT.indexOf('London') + 4);
      await see(page.locator('mark.span-tag')).toHaveCount(2);
      await see(page.locator('mark.span-tag[data-label=PLACE]')).toHaveText('London');
      if (i === 0) {
        // Clearing a span by clicking it, then tagging it again.
        await page.locator('mark.span-tag[data-label=PLACE]').click();
        await see(page.locator('mark.span-tag')).toHaveCount(1);
        // Tag it again from a keyboard-style selection (part of the word) and the T key.
        await page.evaluate((word) => {
          const root = document.querySelector('[data-testid=span-text]');
          const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
          let n: Node | null;
          while ((n = walker.nextNode())) {
            const k = n.textContent.indexOf(word);
            if (k >= 0) {
              const r = document.createRange();
              r.setStart(n, k + 2);
              r.setEnd(n, k + 4);
              const sel = (globalThis as any).getSelection();
              sel.removeAllRanges();
              sel.addRange(r);
              return;
            }
          }
          throw new Error(`${word} not found`);
        }, 'London');
        await page.keyboard.press('t');
        await see(page.locator('mark.span-tag')).toHaveCount(2);
        await shot(page, '08-task-spans');
      }
      await page.keyboard.press('Enter');
      await expectEmpty(page);
    }

    // Worker 1 also does the multi-label and the free-text campaign.
    const p1 = w1.page;
    await p1.goto(`${base}/work/${multiId}`);
    await nextTask(p1);
    await p1.keyboard.press('1');
    await p1.keyboard.press('3');
    await see(p1.getByRole('checkbox', { checked: true })).toHaveCount(2);
    await shot(p1, '09-task-multi-label');
    await p1.keyboard.press('Enter');
    await expectEmpty(p1);
    await p1.goto(`${base}/work/${textId}`);
    await nextTask(p1);
    await p1.getByLabel('Your answer').fill('A red car parked on a sunny street.');
    await shot(p1, '10-task-text');
    await p1.getByLabel('Your answer').press('Control+Enter');
    await expectEmpty(p1);

    // The answers arrived in image pixels and UTF-16 offsets.
    const boxAnswers = (await t.http.get(`/api/campaigns/${boxesId}/answers`).set(requester.auth).expect(200)).body.items;
    expect(boxAnswers).toHaveLength(3);
    for (const a of boxAnswers) {
      expect(a.answer.boxes).toHaveLength(1);
      const [b] = a.answer.boxes;
      expect(b.label).toBe('car');
      expect(Math.abs(b.x - 80)).toBeLessThanOrEqual(3);
      expect(Math.abs(b.y - 90)).toBeLessThanOrEqual(3);
      expect(Math.abs(b.w - 120)).toBeLessThanOrEqual(4);
      expect(Math.abs(b.h - 60)).toBeLessThanOrEqual(4);
    }
    const spanAnswers = (await t.http.get(`/api/campaigns/${spansId}/answers`).set(requester.auth).expect(200)).body.items;
    expect(spanAnswers).toHaveLength(3);
    for (const a of spanAnswers) {
      expect(a.answer.spans).toEqual([
        { start: 0, end: 12, label: 'PERSON' },
        { start: SPAN_TEXT.indexOf('London'), end: SPAN_TEXT.indexOf('London') + 6, label: 'PLACE' },
      ]);
    }
    const multi = (await t.http.get(`/api/campaigns/${multiId}/answers`).set(requester.auth).expect(200)).body.items;
    expect(multi[0].answer).toEqual({ labels: ['price', 'shipping'] });

    // ── Requester: consensus, histogram, export, review ──
    await rq.goto(`${base}/campaigns/${sentimentId}`);
    await rq.locator('.tasks-table tbody tr').first().waitFor();
    await see(rq.locator('.tasks-table tbody')).toContainText('positive');
    await rq.locator('.chart-box canvas').first().waitFor();
    await see(rq.locator('.chart-box canvas')).toHaveCount(5); // confidence, progress, spend, agreement, labels
    await see(rq.locator('.workers-table tbody tr')).toHaveCount(3);
    await see(rq.locator('.workers-table tbody')).toContainText('W-');
    await rq.getByLabel('Tasks per worker per 24 h (empty: no cap)').fill('500');
    await rq.getByLabel('Gold rate for proven workers').fill('0.05');
    await rq.getByRole('button', { name: 'Save rules' }).click();
    await see(rq.locator('main')).toContainText('Quality rules saved.');
    expect((await t.http.get(`/api/campaigns/${sentimentId}/quality-rules`).set(requester.auth).expect(200)).body).toMatchObject({ dailyCap: 500, goldRateProven: 0.05 });
    await rq.getByRole('button', { name: 'Re-estimate worker skills now' }).click();
    await see(rq.locator('main')).toContainText('Re-estimated');
    await see(rq.locator('.stats')).toContainText("Krippendorff's alpha");
    await shot(rq, '11-campaign-dashboard');
    const [workersCsv] = await Promise.all([rq.waitForEvent('download'), rq.getByRole('button', { name: 'Download worker reliability (CSV)' }).click()]);
    const workerRows = readFileSync((await workersCsv.path())!, 'utf8').trim().split('\n');
    expect(workerRows[0]).toMatch(/^worker,answers,/);
    expect(workerRows).toHaveLength(4);
    const [download] = await Promise.all([rq.waitForEvent('download'), rq.getByRole('button', { name: 'Export CSV' }).click()]);
    const exported = readFileSync((await download.path())!, 'utf8');
    // The server's results export (the quality lib's streamed CSV), downloaded through the browser.
    expect(exported.split('\n')[0]).toMatch(/^task_id,seq,status,label,confidence,agreement,/);
    expect(exported.trim().split('\n')).toHaveLength(3);
    expect(exported).toContain('positive');
    expect(exported).toContain('negative');
    const [jsonl] = await Promise.all([rq.waitForEvent('download'), rq.getByRole('button', { name: 'Export JSONL' }).click()]);
    const lines = readFileSync((await jsonl.path())!, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(2);
    expect(lines.map((l) => l.label).sort()).toEqual(['negative', 'positive']);

    await rq.getByRole('link', { name: 'Review answers' }).click();
    await rq.locator('.review-item').first().waitFor();
    await see(rq.locator('.review-item').first()).toHaveClass(/disagree/);
    await shot(rq, '12-review-queue');
    const disagreeing = rq.locator('.review-item', { hasText: 'neutral' }).first();
    await disagreeing.getByPlaceholder('Reason (shown to the worker)').fill('The review is clearly negative');
    await disagreeing.getByRole('button', { name: 'Reject' }).click();
    await see(disagreeing.locator('.badge-rejected')).toHaveCount(1);
    const agreeing = rq.locator('.review-item:not(.disagree)').first();
    await agreeing.getByRole('button', { name: 'Approve', exact: true }).click();
    await see(agreeing.locator('.badge-approved')).toHaveCount(1);
    // The other two answers on the unanimous item are approved in one go.
    await rq.getByRole('button', { name: 'Approve all that agree with consensus (2)' }).click();
    await see(rq.locator('main')).toContainText('Approved 2 answers.');
    await see(rq.locator('.review-item:not(.disagree) .badge-approved')).toHaveCount(3);

    await rq.goto(`${base}/campaigns/${boxesId}`);
    await rq.locator('.tasks-table tbody tr').first().waitFor();
    await see(rq.locator('.tasks-table tbody')).toContainText('car');

    // Worker 3 sees the rejection and its reason.
    const p3 = workers[2].page;
    await p3.goto(`${base}/work/history`);
    await see(p3.locator('tbody')).toContainText('The review is clearly negative');
    await shot(p3, '13-worker-my-work');
    await p3.getByRole('link', { name: 'Earnings' }).first().click();
    await p3.getByRole('heading', { name: 'Earnings and payouts' }).waitFor();
    await see(p3.locator('main')).toContainText('Payouts through Stripe are not enabled');
    await p3.getByRole('heading', { name: 'Statement' }).waitFor();
    await p3.locator('.chart-box canvas').waitFor();
    await shot(p3, '20-worker-earnings');
    const [statement] = await Promise.all([p3.waitForEvent('download'), p3.getByRole('button', { name: 'Download CSV' }).click()]);
    const statementCsv = readFileSync((await statement.path())!, 'utf8').trim().split('\n');
    expect(statementCsv[0]).toBe('createdAt,transactionId,kind,account,currency,amountMinor,balanceAfterMinor,reference,memo');
    for (const line of statementCsv.slice(1)) expect(line).toMatch(/,(approval|bonus|manual_credit),worker_payable,usd,\d+,\d+,/);
    await p3.getByRole('link', { name: 'Reliability' }).click();
    await p3.getByRole('heading', { name: 'My reliability' }).waitFor();
    await see(p3.locator('.stats').last()).toContainText('1rejected');
    await p3.getByRole('heading', { name: 'Reliability score' }).waitFor();
    await see(p3.locator('.stats').first()).toContainText('reliability score');
    await p3.locator('.chart-box canvas').waitFor();
    await shot(p3, '21-worker-reliability');

    // ── Admin ──
    const ad = await newPage();
    await ad.goto(`${base}/signin`);
    await shot(ad, '14-sign-in');
    await ad.getByLabel('Email').fill(admin.email);
    await ad.getByLabel('Password').fill(PASSWORD);
    await ad.getByRole('button', { name: 'Sign in' }).click();
    await ad.waitForURL(/\/admin$/);
    await ad.locator('.stat').first().waitFor();
    await see(ad.locator('table')).toContainText(CAMPAIGN);
    await shot(ad, '15-admin-overview');
    await ad.getByRole('link', { name: `Agreement audit of ${CAMPAIGN}` }).click();
    await ad.getByRole('heading', { name: `Agreement audit: ${CAMPAIGN}` }).waitFor();
    await see(ad.locator('.stats')).toContainText("Krippendorff's alpha");
    await see(ad.locator('table.heatmap')).toHaveCount(2);
    await see(ad.locator('table.heatmap').first()).toContainText('negative');
    await ad.locator('.chart-box canvas').waitFor();
    await shot(ad, '22-admin-agreement-audit');
    await ad.getByRole('link', { name: 'Overview', exact: true }).click();
    await ad.getByRole('link', { name: 'Users' }).click();
    await ad.getByLabel('Search by email or name').fill(workers[2].email);
    await ad.getByRole('button', { name: 'Search' }).click();
    await see(ad.locator('tbody tr')).toHaveCount(1);
    await ad.getByLabel(/Reason for blocking/).fill('Too many rejected answers');
    await ad.getByRole('button', { name: 'Block' }).click();
    await see(ad.locator('tbody')).toContainText('Too many rejected answers');
    await shot(ad, '16-admin-users');
    await ad.getByRole('link', { name: 'Worker 3' }).click();
    await ad.getByRole('heading', { name: 'Worker 3' }).waitFor();
    await see(ad.locator('main')).toContainText('Too many rejected answers');
    await see(ad.locator('main')).toContainText('The review is clearly negative');
    await ad.getByRole('heading', { name: /^Gold history/ }).waitFor();
    await ad.getByRole('heading', { name: 'Rule log' }).waitFor();
    await shot(ad, '23-admin-user-detail');
    await ad.getByRole('button', { name: 'Unblock' }).click();
    await ad.getByRole('button', { name: 'Block', exact: true }).waitFor();
    await ad.goBack();
    await ad.getByRole('link', { name: 'Audit log' }).click();
    await see(ad.locator('tbody')).toContainText('user.blocked');
    await shot(ad, '17-admin-audit');
    await ad.getByRole('link', { name: 'Ledger' }).click();
    await ad.getByRole('heading', { name: 'Trial balance' }).waitFor();
    await ad.waitForFunction(() => !document.body.textContent!.includes('Loading…'));
    if (funded) {
      await see(ad.locator('main')).toContainText('Balanced');
      await see(ad.locator('.ledger-table')).toContainText('requester cash');
      await ad.getByLabel('User email').fill(requesterEmail);
      await ad.getByLabel('Amount').fill('5');
      await ad.getByLabel('Reason', { exact: true }).fill('goodwill top-up');
      await ad.getByRole('button', { name: 'Credit' }).click();
      await see(ad.locator('main')).toContainText('Credited $5.00');
    }
    await shot(ad, '18-admin-ledger');
    await ad.getByRole('link', { name: 'Payouts', exact: true }).click();
    await ad.getByRole('heading', { name: 'Payouts', exact: true }).waitFor();
    await see(ad.locator('main')).toContainText('Stripe is not configured on this server');
    await ad.getByRole('button', { name: 'Reconcile with Stripe' }).click();
    await ad.getByRole('heading', { name: 'Reconciliation' }).waitFor();
    // Without Stripe there are no transfers to match: the report is clean, or (on a database other
    // suites paid out through the fake Stripe) lists those payouts as discrepancies against 0 transfers.
    await ad.waitForFunction(() => /Reconciled: \d+ payouts match 0 Stripe transfers|discrepanc\S* over \d+ payouts and 0 transfers/.test(document.querySelector('main')!.textContent!));
    await shot(ad, '24-admin-payouts');

    // A reload keeps the session (refresh token in localStorage) and deep links work (SPA fallback).
    await rq.goto(`${base}/campaigns/${sentimentId}/review`);
    await rq.getByRole('heading', { name: 'Review answers' }).waitFor();

    expect(consoleErrors).toEqual([]);
    expect(a11yProblems).toEqual([]);
    // eslint-disable-next-line no-console
    console.log(`web e2e: ${((Date.now() - started) / 1000).toFixed(1)} s in the browser; funding ${funded ? 'via admin credit' : 'skipped (no ledger credit endpoint yet)'}`);
  }

  it('tops up through Stripe Checkout and connects a payout account when Stripe is configured', async () => {
    // A second app on the same database, talking to the local fake Stripe with the real SDK.
    const fake = await startFakeStripe();
    const s = await createTestApp(fake.env());
    try {
      await s.app.listen(0, '127.0.0.1');
      const at = `http://127.0.0.1:${(s.app.getHttpServer().address() as AddressInfo).port}`;
      const deliver = async (event: Record<string, unknown>) => {
        const { body, signature } = fake.sign(event);
        await s.http.post('/api/stripe/webhook').set('stripe-signature', signature).set('content-type', 'application/json').send(body).expect(200);
      };

      const rq = await newPage();
      await signUpInBrowser(rq, 'Stripe Requester', 'requester', at);
      await rq.goto(`${at}/funding`);
      await rq.getByLabel('Amount').fill('25');
      await rq.getByRole('button', { name: 'Pay with Stripe' }).click();
      await rq.waitForURL(/\/pay\//); // the browser went to (fake) Stripe's payment page
      const session = [...fake.sessions.values()].find((x) => x.url === rq.url())!;
      expect(session).toMatchObject({ amount_total: 2500, currency: 'usd', success_url: `${at}/funding?status=success` });
      const { completed } = fake.completeCheckout(session.id as string);
      await deliver(completed);
      await rq.goto(`${at}/funding?status=success`);
      await see(rq.locator('main')).toContainText('Payment received by Stripe');
      await see(rq.locator('.stats')).toContainText('$25.00');
      await shot(rq, '25-requester-funding-stripe');

      const wk = await newPage();
      await signUpInBrowser(wk, 'Stripe Worker', 'worker', at);
      await wk.goto(`${at}/work/earnings`);
      await wk.getByRole('button', { name: 'Connect payout account' }).click();
      await wk.waitForURL(/\/onboarding\//); // (fake) Stripe's onboarding page, named after the account
      const accountId = wk.url().split('/').pop()!;
      await deliver(fake.enableAccount(accountId));
      await wk.goto(`${at}/work/earnings?onboarding=done`);
      await see(wk.locator('main')).toContainText('Welcome back from Stripe');
      await wk.locator('.badge-active').waitFor();
      await shot(wk, '26-worker-payout-connected');
      expect(consoleErrors).toEqual([]);
      expect(a11yProblems).toEqual([]);
    } finally {
      await s.close();
      await fake.stop();
    }
  });

  it('MTurk: a requester makes and revokes an access key in the UI; a worker answers an HTMLQuestion HIT in its sandboxed frame', async () => {
    // A second app whose PUBLIC_URL is its real address: frame and turkSubmitTo URLs are absolute.
    const port = await new Promise<number>((done) => {
      const probe = createServer();
      probe.listen(0, '127.0.0.1', () => {
        const p = (probe.address() as AddressInfo).port;
        probe.close(() => done(p));
      });
    });
    const at = `http://127.0.0.1:${port}`;
    const s = await createTestApp({ PUBLIC_URL: at });
    try {
      await s.app.listen(port, '127.0.0.1');
      const admin = await createAdmin(s);

      // The requester creates a key pair in the UI: the secret is shown once, with a copy button.
      const rq = await newPage();
      await rq.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: at });
      const rqEmail = await signUpInBrowser(rq, 'MTurk Requester', 'requester', at);
      const requester = await login(rqEmail);
      await s.http.post('/api/admin/ledger/credits').set(admin.auth).send({ userId: requester.id, amountMinor: 1000, currency: 'usd', reason: 'mturk browser test' }).expect(201);
      await rq.getByRole('link', { name: 'MTurk keys' }).click();
      await rq.getByRole('heading', { name: 'MTurk access keys' }).waitFor();
      await rq.getByLabel('Label (optional)').fill('browser scripts');
      await rq.getByRole('button', { name: 'Create key' }).click();
      const accessKeyId = (await rq.getByTestId('new-key-id').textContent())!;
      const secretAccessKey = (await rq.getByTestId('new-key-secret').textContent())!;
      expect(accessKeyId).toMatch(/^AKTL[A-Z2-7]{16}$/);
      expect(secretAccessKey).toHaveLength(40);
      await rq.getByRole('button', { name: 'Copy the secret access key' }).click();
      await see(rq.getByTestId('new-key')).toContainText('Copied');
      expect(await rq.evaluate(() => (globalThis as any).navigator.clipboard.readText())).toBe(secretAccessKey);
      const keyRow = rq.locator(`tr[data-key="${accessKeyId}"]`);
      await see(keyRow).toContainText('browser scripts');
      await see(keyRow).toContainText('never');
      await see(keyRow).toContainText('active');
      await shot(rq, '30-requester-mturk-keys');
      // Shown once: after a reload only the last four characters are left.
      await rq.reload();
      await see(keyRow).toContainText(`…${secretAccessKey.slice(-4)}`);
      expect(await rq.locator('main').textContent()).not.toContain(secretAccessKey);

      // The key works with the unmodified AWS SDK: an HTMLQuestion HIT, its form filled in by the worker.
      const mturk = new MTurkClient({ endpoint: `${at}/api/mturk`, region: 'us-east-1', credentials: { accessKeyId, secretAccessKey }, maxAttempts: 1 });
      const title = `Politeness ${Date.now().toString(36)}`;
      const question = `<HTMLQuestion xmlns="http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2011-11-11/HTMLQuestion.xsd">
  <HTMLContent><![CDATA[<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Politeness</title></head><body>
  <form name="mturk_form" method="post" id="mturk_form" action="https://www.mturk.com/mturk/externalSubmit">
  <input type="hidden" name="assignmentId" id="assignmentId" value="">
  <p id="q">Is this sentence polite? "Move."</p>
  <label><input type="radio" name="polite" value="yes"> yes</label> <label><input type="radio" name="polite" value="no"> no</label>
  <label>Comments <textarea name="comments"></textarea></label>
  <input type="submit" id="submitButton" value="Send answer"></form>
  <script>document.getElementById('assignmentId').value = new URLSearchParams(location.search).get('assignmentId') || '';</script>
  </body></html>]]></HTMLContent>
  <FrameHeight>400</FrameHeight>
</HTMLQuestion>`;
      const hit = (await mturk.send(new CreateHITCommand({ Title: title, Description: 'Judge one sentence', Reward: '0.50', AssignmentDurationInSeconds: 300, LifetimeInSeconds: 3600, MaxAssignments: 1, Question: question }))).HIT!;
      expect((await mturk.send(new GetAccountBalanceCommand({}))).OnHoldBalance).toBe('0.60');

      const wk = await newPage();
      await signUpInBrowser(wk, 'MTurk Worker', 'worker', at);
      await wk.getByRole('link', { name: `Start working on MTurk: ${title}` }).click();
      const iframe = wk.locator('.mturk-frame iframe');
      await iframe.waitFor();
      expect(await iframe.getAttribute('sandbox')).toBe('allow-scripts allow-forms');
      const assignmentId = await wk.locator('.task-widget').getAttribute('data-assignment');
      const src = new URL((await iframe.getAttribute('src'))!);
      expect(src.origin).toBe(at);
      expect(src.searchParams.get('assignmentId')).toBe(assignmentId);
      expect(src.searchParams.get('hitId')).toBe(hit.HITId);
      expect(src.searchParams.get('workerId')).toMatch(/^A[A-Z2-7]{13}$/);
      const frame = wk.frameLocator('.mturk-frame iframe');
      await frame.locator('#q').waitFor();
      // The requester's page runs its script but has an opaque origin: Tally's page, storage and cookies are out of reach.
      const questionFrame = wk.frames().find((f) => f.url().startsWith(`${at}/api/mturk/frame/`))!;
      expect(await questionFrame.evaluate(() => (globalThis as any).document.getElementById('assignmentId').value)).toBe(assignmentId);
      expect(await questionFrame.evaluate(() => { try { return String((globalThis as any).parent.document.title); } catch { return 'blocked'; } })).toBe('blocked');
      expect(await questionFrame.evaluate(() => { try { return String((globalThis as any).localStorage.length); } catch { return 'blocked'; } })).toBe('blocked');
      await expect(wk.getByTestId('submit').isDisabled()).resolves.toBe(true); // the page in the frame submits itself
      await shot(wk, '31-worker-mturk-html-question');
      await frame.getByLabel('no').check();
      await frame.getByLabel('Comments').fill('Too <curt> & short');
      await frame.getByRole('button', { name: 'Send answer' }).click();
      // Tally took the form as the answer and the worker moves on (here: nothing else to do).
      await expectEmpty(wk);
      await see(wk.locator('.task-status')).toContainText('1 done this session');

      const [a] = (await mturk.send(new ListAssignmentsForHITCommand({ HITId: hit.HITId }))).Assignments!;
      expect(a).toMatchObject({ AssignmentId: assignmentId, AssignmentStatus: 'Submitted' });
      expect(a.Answer).toContain('<QuestionFormAnswers xmlns="http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2005-10-01/QuestionFormAnswers.xsd">');
      expect(a.Answer).toContain('<Answer><QuestionIdentifier>polite</QuestionIdentifier><FreeText>no</FreeText></Answer>');
      expect(a.Answer).toContain('<Answer><QuestionIdentifier>comments</QuestionIdentifier><FreeText>Too &lt;curt&gt; &amp; short</FreeText></Answer>');
      expect(a.Answer).not.toContain('<QuestionIdentifier>assignmentId</QuestionIdentifier>');
      const [{ n }] = await dataSourceOf(s).query(`SELECT count(*)::int AS n FROM assignments WHERE task_id = $1 AND status = 'submitted'`, [hit.HITId]);
      expect(n).toBe(1);

      // The key list shows it was used; revoking it in the UI stops the SDK at once.
      await rq.reload();
      await see(keyRow).toContainText('active');
      expect(await keyRow.locator('td').nth(3).textContent()).not.toBe('never');
      rq.once('dialog', (d) => void d.accept());
      await rq.getByRole('button', { name: `Revoke ${accessKeyId}` }).click();
      await see(keyRow).toContainText('revoked');
      await see(keyRow.getByRole('button', { name: `Revoke ${accessKeyId}` })).toHaveCount(0);
      const refused = await mturk.send(new GetAccountBalanceCommand({})).then(() => null, (e: Error) => e);
      expect(refused?.name).toBe('UnrecognizedClientException');
      expect(consoleErrors).toEqual([]);
      expect(a11yProblems).toEqual([]);
    } finally {
      await s.close();
    }
  });

  it('shows a model pre-label as a suggestion the worker can start from (modelLabels = suggest)', async () => {
    const requester = await signUp(t, ['requester']);
    const c = await seedCampaign(t, requester.id, { labels: ['cat', 'dog', 'bird'] }, [{ payload: { text: 'A small animal that barks' }, prelabel: { label: 'dog' } }]);
    await dataSourceOf(t).query(`UPDATE campaigns SET model_labels = 'suggest' WHERE id = $1`, [c.id]);
    await dataSourceOf(t).query(`UPDATE tasks SET prelabel_model = 'animals-v2', prelabel_confidence = 0.87 WHERE campaign_id = $1`, [c.id]);
    const page = await newPage();
    await signUpInBrowser(page, 'Suggested Worker', 'worker');
    await page.goto(`${base}/work/${c.id}`);
    await nextTask(page);
    await see(page.locator('.model-suggestion')).toContainText('Model suggestion (animals-v2, 87% sure): dog');
    await see(page.getByRole('radio', { checked: true })).toHaveCount(0); // a suggestion, not a pre-filled answer
    await page.getByRole('button', { name: 'Start from the suggestion' }).click();
    await see(page.getByRole('radio', { name: /dog/i, checked: true })).toHaveCount(1);
    await shot(page, '30-task-model-suggestion');
    await page.getByTestId('submit').click(); // (Enter would press the focused suggestion button again)
    await expectEmpty(page);
    const [stored] = await dataSourceOf(t).query(`SELECT answer FROM assignments WHERE campaign_id = $1`, [c.id]);
    expect(stored.answer).toEqual({ label: 'dog' });
    expect(consoleErrors).toEqual([]);
    expect(a11yProblems).toEqual([]);
  });

  it('tells the requester that a campaign ended at its deadline with tasks unanswered', async () => {
    const page = await newPage();
    const email = await signUpInBrowser(page, 'Deadline Requester', 'requester');
    const me = await login(email);
    const deadline = new Date(Date.now() - 3_600_000);
    const c = await seedCampaign(t, me.id, { name: 'Ended early', status: 'completed', deadline }, [{ payload: { text: 'one' } }, { payload: { text: 'two' } }]);
    await page.goto(`${base}/campaigns/${c.id}`);
    await see(page.locator('main')).toContainText('Ended at its deadline');
    await see(page.locator('main')).toContainText('2 of 2 tasks were not answered');
    // still running past its deadline (a claim made in time is out): said so too
    const running = await seedCampaign(t, me.id, { name: 'Past deadline', status: 'published', deadline }, [{ payload: { text: 'three' } }]);
    await page.goto(`${base}/campaigns/${running.id}`);
    await see(page.locator('main')).toContainText('The deadline has passed: no new work is handed out');
    expect(consoleErrors).toEqual([]);
    expect(a11yProblems).toEqual([]);
  });

  it('serves the SPA at / and deep links, and leaves API 404s alone', async () => {
    const root = await t.http.get('/').expect(200);
    expect(root.text).toContain('<div id="root">');
    const deep = await t.http.get('/campaigns/some/deep/link').expect(200);
    expect(deep.text).toContain('<div id="root">');
    const api404 = await t.http.get('/api/no-such-thing').expect(404);
    expect(api404.body.statusCode).toBe(404);
    await t.http.get('/health').expect(200);
  });
});

/** Playwright's auto-retrying assertions on a locator, without its test runner. */
type Loc = import('playwright-core').Locator;
function see(loc: Loc) {
  const poll = async (check: () => Promise<boolean>, what: () => Promise<string>) => {
    const until = Date.now() + 10_000;
    while (Date.now() < until) {
      if (await check().catch(() => false)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`${loc}: ${await what().catch((e) => String(e))}`);
  };
  return {
    toHaveCount: (n: number) => poll(async () => (await loc.count()) === n, async () => `expected count ${n}, got ${await loc.count()}`),
    toHaveText: (s: string) => poll(async () => (await loc.textContent())?.trim() === s, async () => `expected text "${s}", got "${await loc.textContent()}"`),
    toContainText: (s: string) =>
      poll(async () => ((await loc.first().textContent()) ?? '').includes(s), async () => `expected to contain "${s}", got "${(await loc.first().textContent())?.slice(0, 500)}"`),
    toHaveClass: (re: RegExp) => poll(async () => re.test((await loc.getAttribute('class')) ?? ''), async () => `expected class ${re}, got "${await loc.getAttribute('class')}"`),
  };
}
