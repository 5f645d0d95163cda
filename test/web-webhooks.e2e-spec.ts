import { CreateHITCommand, ListAssignmentsForHITCommand, MTurkClient, NotifyWorkersCommand } from '@aws-sdk/client-mturk';
import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { Page } from 'playwright-core';
import { JobsService } from '@tally/jobs';
import { createAdmin, createTestApp, dataSourceOf, selectionForm, TestApp, TestUser } from '@tally/testing';
import { verifySignature, WEBHOOK_DELIVERIES_JOB } from '@tally/webhooks';
import { BrowserHarness, startBrowser } from './browser-harness';

/**
 * The webhooks page and the worker inbox in Debian's Chromium: a requester creates an endpoint
 * in the browser (the secret shown once), a task of the campaign completes, the signed delivery
 * reaches a local receiver and shows as delivered in the log; they pause, rotate and delete it.
 * A worker finds the requester's NotifyWorkers message in their inbox (nav badge) and marks it
 * read. Screenshots go to test-artifacts/screenshots/, each checked with axe (WCAG 2 A/AA).
 *
 * Chromium must launch: if it cannot, this test fails (it never skips).
 */
const PASSWORD = 'correct horse battery';
const QUESTION = selectionForm('Cat or dog?');

jest.setTimeout(120_000);

// Functions passed to page.evaluate run in the browser; the Nest tsconfig has no DOM lib.
/* eslint-disable @typescript-eslint/no-explicit-any */
declare const document: any;

describe('webhooks and inbox in the browser (e2e, Chromium)', () => {
  let t: TestApp;
  let base: string;
  let h: BrowserHarness;
  let receiver: Server;
  let rxBase: string;
  const received: { path: string; headers: IncomingHttpHeaders; body: string }[] = [];
  let consoleErrors: string[];
  let a11yProblems: string[];

  beforeAll(async () => {
    // The refused private-address URL (400) is part of the test, like the usual 401/404/409.
    h = await startBrowser({ ignoreStatuses: [400, 401, 404, 409] });
    ({ consoleErrors, a11yProblems } = h);
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ path: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    rxBase = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    t = await createTestApp({ WEBHOOK_ALLOW_HOSTS: '127.0.0.1' }); // the receiver is on loopback, over plain http
    await t.app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await h?.close();
    await t?.close();
    await new Promise((r) => (receiver ? receiver.close(r) : r(undefined)));
  });

  const newPage = () => h.newPage();
  const shot = (page: Page, name: string) => h.shot(page, name);

  async function account(displayName: string, roles: ('requester' | 'worker')[]): Promise<TestUser> {
    const email = `${displayName.toLowerCase().replace(/\W+/g, '-')}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@test.tally`;
    const res = await t.http.post('/api/auth/signup').send({ email, password: PASSWORD, displayName, roles }).expect(201);
    return { id: res.body.user.id, email, token: res.body.accessToken, refreshToken: res.body.refreshToken, auth: { Authorization: `Bearer ${res.body.accessToken}` } };
  }

  async function signIn(page: Page, user: TestUser, home: RegExp) {
    await page.goto(`${base}/signin`);
    await page.getByLabel('Email').fill(user.email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(home);
  }

  it('a requester adds an endpoint, sees the secret once and a delivered event; a worker reads a NotifyWorkers message', async () => {
    const started = Date.now();
    // A requester with an MTurk key posts one HIT (a one-task campaign) through the AWS SDK.
    const admin = await createAdmin(t);
    const requester = await account('Acme Research Lab', ['requester']);
    await t.http.post('/api/admin/ledger/credits').set(admin.auth).send({ userId: requester.id, amountMinor: 1_000, currency: 'usd', reason: 'web webhooks test' }).expect(201);
    const key = (await t.http.post('/api/mturk/keys').set(requester.auth).send({ label: 'web webhooks' }).expect(201)).body;
    const mturk = new MTurkClient({ endpoint: `${base}/api/mturk`, region: 'us-east-1', credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey }, maxAttempts: 1 });
    const hit = (await mturk.send(new CreateHITCommand({ Title: `Pets ${Date.now().toString(36)}`, Description: 'd', Reward: '0.05', AssignmentDurationInSeconds: 300, LifetimeInSeconds: 3600, MaxAssignments: 1, Question: QUESTION }))).HIT!;
    const [{ campaign_id: campaignId, name: campaignName }] = await dataSourceOf(t).query(
      `SELECT h.campaign_id, c.name FROM mturk_hits h JOIN campaigns c ON c.id = h.campaign_id WHERE h.task_id = $1`,
      [hit.HITId],
    );

    // The requester adds an endpoint for that campaign in the browser.
    const rq = await newPage();
    await signIn(rq, requester, /\/campaigns$/);
    await rq.getByRole('link', { name: 'Webhooks' }).click();
    await rq.getByRole('heading', { name: 'Webhooks', level: 1 }).waitFor();
    await rq.getByText('No endpoints yet.').waitFor();
    const path = `/tally/${campaignId}`;
    // A private address is refused, and the page says which field is wrong.
    await rq.getByLabel('Endpoint URL').fill('https://10.1.2.3/hook');
    await rq.getByRole('button', { name: 'Create endpoint' }).click();
    await rq.getByRole('form', { name: 'Create a webhook endpoint' }).getByRole('alert').getByText(/url/).waitFor();
    await rq.getByLabel('Endpoint URL').fill(`${rxBase}${path}`);
    await rq.getByRole('combobox', { name: /^Campaign/ }).selectOption(campaignId);
    await rq.getByRole('checkbox', { name: /campaign\.completed/ }).check();
    await rq.getByRole('checkbox', { name: /task\.completed/ }).uncheck();
    await rq.getByRole('checkbox', { name: /campaign\.completed/ }).uncheck();
    // No event chosen: the form says so and will not submit.
    await rq.getByText('Choose at least one event.').waitFor();
    expect(await rq.getByRole('button', { name: 'Create endpoint' }).isDisabled()).toBe(true);
    await rq.getByRole('checkbox', { name: /task\.completed/ }).check();
    await rq.getByLabel('Description (optional)').fill('Label sync');
    await rq.getByRole('button', { name: 'Create endpoint' }).click();

    // The secret, once, with how to verify Tally-Signature.
    const panel = rq.getByTestId('webhook-secret');
    await panel.getByRole('heading', { name: 'Endpoint created' }).waitFor();
    const secret = (await panel.getByTestId('webhook-secret-value').textContent())!.trim();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    await panel.getByText('How to verify a delivery').click();
    await panel.getByText('Tally-Signature: t=<unix seconds>,v1=<hex>').waitFor();
    const row = rq.locator('tr', { hasText: `${rxBase}${path}` });
    await row.getByText(`secret …${secret.slice(-4)}`).waitFor();
    await row.getByRole('cell').nth(1).getByRole('link', { name: campaignName }).waitFor(); // the scope
    expect(await row.textContent()).toContain('task.completed');
    expect(await row.textContent()).not.toContain('campaign.completed');
    await shot(rq, '40-requester-webhook-created');
    await panel.getByRole('button', { name: 'I have stored it; hide the secret' }).click();
    await panel.waitFor({ state: 'detached' });
    await rq.reload();
    await row.waitFor();
    expect(await rq.content()).not.toContain(secret);

    // A worker completes the campaign's one task; the delivery job runs (no sweep to wait for).
    const worker = await account('Worker Wren', ['worker']);
    const claim = await t.http.post(`/api/work/campaigns/${campaignId}/claim`).set(worker.auth).expect(200);
    await t.http.post(`/api/work/assignments/${claim.body.assignmentId}/submit`).set(worker.auth).send({ answer: { label: 'cat' } }).expect(200);
    const run = await t.app.get(JobsService).runNow<{ delivered: number }>(WEBHOOK_DELIVERIES_JOB);
    expect(run.delivered).toBeGreaterThanOrEqual(1);
    const got = received.filter((r) => r.path === path);
    expect(got).toHaveLength(1);
    // Signed with the secret the page showed.
    expect(verifySignature(secret, got[0].body, got[0].headers['tally-signature'] as string)).toBe(true);
    const event = JSON.parse(got[0].body);
    expect(event).toMatchObject({ type: 'task.completed', data: { campaignId } });

    // The delivery log shows it delivered.
    await row.getByRole('button', { name: `Deliveries of ${rxBase}${path}` }).click();
    const log = rq.getByTestId('delivery-log');
    const delivered = log.locator(`tr[data-status="delivered"]`);
    await delivered.waitFor();
    expect(await log.locator('tbody tr').count()).toBe(1);
    const cells = (await delivered.getByRole('cell').allTextContents()).map((s) => s.trim());
    expect(cells[0]).toBe(`task.completed${event.id}`);
    expect(cells[1]).toBe('delivered');
    expect(cells[2]).toBe('1');
    expect(cells[3]).toBe('HTTP 204');
    expect(cells[4]).toBe('—'); // no next attempt
    expect(cells[5]).not.toBe('—'); // delivered at
    await shot(rq, '41-requester-webhook-deliveries');

    // Pause, rotate (a new secret, shown once), delete (each behind a confirm where it matters).
    await row.getByRole('button', { name: `Disable ${rxBase}${path}` }).click();
    await row.getByText('paused', { exact: true }).waitFor();
    expect((await t.http.get(`/api/webhooks?limit=10`).set(requester.auth).expect(200)).body.items[0].active).toBe(false);
    await row.getByRole('button', { name: `Enable ${rxBase}${path}` }).click();
    await row.getByText('active', { exact: true }).waitFor();
    rq.once('dialog', (d) => void d.accept());
    await row.getByRole('button', { name: `Rotate secret of ${rxBase}${path}` }).click();
    await panel.getByRole('heading', { name: 'New signing secret' }).waitFor();
    const rotated = (await panel.getByTestId('webhook-secret-value').textContent())!.trim();
    expect(rotated).toMatch(/^whsec_/);
    expect(rotated).not.toBe(secret);
    await row.getByText(`secret …${rotated.slice(-4)}`).waitFor();
    rq.once('dialog', (d) => void d.dismiss());
    await row.getByRole('button', { name: `Delete ${rxBase}${path}` }).click();
    expect((await t.http.get('/api/webhooks').set(requester.auth).expect(200)).body.total).toBe(1); // dismissed: kept
    rq.once('dialog', (d) => void d.accept());
    await row.getByRole('button', { name: `Delete ${rxBase}${path}` }).click();
    await rq.getByText('No endpoints yet.').waitFor();
    await panel.waitFor({ state: 'detached' });
    expect((await t.http.get('/api/webhooks').set(requester.auth).expect(200)).body.total).toBe(0);

    // NotifyWorkers (AWS SDK) to the worker who answered the HIT.
    const [assignment] = (await mturk.send(new ListAssignmentsForHITCommand({ HITId: hit.HITId }))).Assignments!;
    const sent = await mturk.send(new NotifyWorkersCommand({ Subject: 'Bonus batch tomorrow', MessageText: 'Thanks for the careful answers.\nA new batch opens at 9:00 UTC.', WorkerIds: [assignment.WorkerId!] }));
    expect(sent.NotifyWorkersFailureStatuses).toEqual([]);

    // The worker sees the unread count in the navigation, reads the message and marks it read.
    const wk = await newPage();
    await signIn(wk, worker, /\/work$/);
    const inboxLink = wk.getByRole('link', { name: 'Inbox 1 unread' });
    await inboxLink.click();
    await wk.getByRole('heading', { name: 'Inbox', level: 1 }).waitFor();
    const message = wk.getByRole('article', { name: /Bonus batch tomorrow/ });
    await message.waitFor();
    const text = (await message.textContent()) ?? '';
    expect(text).toContain('From Acme Research Lab');
    expect(text).toContain('A new batch opens at 9:00 UTC.');
    await shot(wk, '42-worker-inbox');
    await message.getByRole('button', { name: 'Mark as read “Bonus batch tomorrow”' }).click();
    await message.getByRole('button', { name: /Mark as read/ }).waitFor({ state: 'detached' });
    await wk.getByRole('link', { name: 'Inbox', exact: true }).waitFor(); // the badge is gone
    expect(await message.textContent()).toContain('read ');
    expect((await t.http.get('/api/me/notifications').set(worker.auth).expect(200)).body).toMatchObject({ total: 1, unread: 0 });
    await wk.getByLabel('Unread only').check();
    await wk.getByText('No unread messages.').waitFor();

    expect(consoleErrors).toEqual([]);
    expect(a11yProblems).toEqual([]);
    // eslint-disable-next-line no-console
    console.log(`web webhooks e2e: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });
});
