import fc from 'fast-check';
import { DataSource } from 'typeorm';
import { CampaignsService, ImportItemsUseCase } from '@tally/campaigns';
import { inTransaction } from '@tally/database';
import { cash, escrow, escrowFor, LedgerReportsService, LedgerService, manualAdjustments, payable } from '@tally/ledger';
import { createTestApp, dataSourceOf, seedUsers, TestApp, TestUser } from '@tally/testing';
import { CancelCampaignUseCase, ClaimTaskUseCase, CompleteCampaignsUseCase, ReturnTaskUseCase, ReviewAssignmentsUseCase, SubmitAnswerUseCase } from '@tally/work';

jest.setTimeout(600_000);

type Cmd =
  | { op: 'fund'; amount: number }
  | { op: 'publish'; c: number }
  | { op: 'import'; c: number }
  | { op: 'claim'; c: number; w: number }
  | { op: 'work'; c: number; w: number; label: number }
  | { op: 'submit'; w: number; label: number }
  | { op: 'return'; w: number }
  | { op: 'approve'; pick: number }
  | { op: 'bulk'; c: number }
  | { op: 'reject'; pick: number }
  | { op: 'reverse'; pick: number }
  | { op: 'cancel'; c: number };

const C = fc.integer({ min: 0, max: 1 });
const W = fc.integer({ min: 0, max: 3 });
const PICK = fc.integer({ min: 0, max: 20 });
const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 1, arbitrary: fc.record({ op: fc.constant('fund' as const), amount: fc.integer({ min: 1, max: 300 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('publish' as const), c: C }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('import' as const), c: C }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('claim' as const), c: C, w: W }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('submit' as const), w: W, label: fc.integer({ min: 0, max: 1 }) }) },
  { weight: 10, arbitrary: fc.record({ op: fc.constant('work' as const), c: C, w: W, label: fc.integer({ min: 0, max: 1 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('return' as const), w: W }) },
  { weight: 5, arbitrary: fc.record({ op: fc.constant('approve' as const), pick: PICK }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('bulk' as const), c: C }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('reject' as const), pick: PICK }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('reverse' as const), pick: PICK }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('cancel' as const), c: C }) },
);
const setup = fc.record({
  campaigns: fc.array(
    fc.record({ reward: fc.integer({ min: 0, max: 40 }), min: fc.integer({ min: 1, max: 3 }), extra: fc.integer({ min: 0, max: 2 }), tasks: fc.integer({ min: 1, max: 5 }) }),
    { minLength: 2, maxLength: 2 },
  ),
  /** Starting cash as a percentage of what publishing both campaigns needs. */
  cashPct: fc.integer({ min: 30, max: 220 }),
});

/**
 * Random sequences of fund / publish / import / claim / submit / return / approve / bulk approve /
 * reject / reverse a rejection / cancel, through the real use cases on real PostgreSQL. After every
 * sequence (and the settle sweep) the money must tell the same story as the assignments:
 * - an assignment is paid (ledger key approve:<id>) exactly when it is approved, once;
 * - every worker's payable is reward × their approved assignments;
 * - the requester's money is conserved: credited = cash + escrow + (reward + fee) × approvals;
 * - escrow never runs dry unless a rejection was reversed (the only way to pay more than reserved);
 * - a finished campaign keeps in escrow at most one slot per answer still claimed or unreviewed;
 * - every campaign's money story adds up, and the trial balance is zero.
 */
describe('money through the lifecycle, property (e2e)', () => {
  let t: TestApp;
  let ds: DataSource;
  let ledger: LedgerService;

  beforeAll(async () => {
    t = await createTestApp({ PLATFORM_FEE_BPS: '1500' });
    ds = dataSourceOf(t);
    ledger = t.app.get(LedgerService);
  });
  afterAll(() => t.close());

  const bal = (ref: Parameters<LedgerService['balance']>[1]) => ledger.balance(ds.manager, ref);

  it('pays every approved answer once and loses nothing, whatever the order of events', async () => {
    const campaigns = t.app.get(CampaignsService);
    const importer = t.app.get(ImportItemsUseCase);
    const claimUc = t.app.get(ClaimTaskUseCase);
    const submitUc = t.app.get(SubmitAnswerUseCase);
    const returnUc = t.app.get(ReturnTaskUseCase);
    const review = t.app.get(ReviewAssignmentsUseCase);
    const cancel = t.app.get(CancelCampaignUseCase);
    const complete = t.app.get(CompleteCampaignsUseCase);
    const reports = t.app.get(LedgerReportsService);
    let n = 0;
    const seen = { published: 0, refusedPublish: 0, submitted: 0, approved: 0, rejected: 0, reversed: 0, cancelled: 0, completedTasks: 0 };

    await fc.assert(
      fc.asyncProperty(setup, fc.array(cmd, { minLength: 10, maxLength: 60 }), async (s, cmds) => {
        n++;
        const [r] = await seedUsers(t, 1, ['requester']);
        const workers: TestUser[] = await seedUsers(t, 4, ['worker']);
        let credited = 0;
        let items = 0;
        const fund = async (amount: number) => {
          if (amount <= 0) return;
          await inTransaction(ds, (em) =>
            ledger.post(em, {
              idempotencyKey: `prop-fund:${r.id}:${credited}:${amount}`,
              kind: 'manual_credit',
              memo: 'property test funds',
              entries: [
                { account: manualAdjustments('usd'), amount: -amount },
                { account: cash(r.id, 'usd'), amount },
              ],
            }),
          );
          credited += amount;
        };
        const addItems = (campaignId: string, k: number) => {
          const lines = Array.from({ length: k }, () => JSON.stringify({ text: `item ${n}-${items++}` })).join('\n');
          return importer.execute({ ownerId: r.id, campaignId, format: 'jsonl', strict: true, body: (async function* () { yield lines; })() });
        };
        const cs: { id: string; reward: number; max: number; reversed: boolean }[] = [];
        let need = 0;
        for (const [i, spec] of s.campaigns.entries()) {
          const c = await campaigns.create(r.id, { name: `prop ${n}-${i}`, taskType: 'single-label', labels: ['a', 'b'], rewardMinor: spec.reward, currency: 'usd', redundancyMin: spec.min, redundancyMax: spec.min + spec.extra });
          await addItems(c.id, spec.tasks);
          cs.push({ id: c.id, reward: spec.reward, max: spec.min + spec.extra, reversed: false });
          need += escrowFor(spec.reward, (spec.min + spec.extra) * spec.tasks, t.config.platformFeeBps).total;
        }
        await fund(Math.round((need * s.cashPct) / 100));
        // Both campaigns are offered for publishing first (either may be refused for funds).
        cmds = [{ op: 'publish', c: 0 }, { op: 'publish', c: 1 }, ...cmds];
        const live = new Map<number, string>(); // worker → live assignment
        const ofStatus = async (status: string) =>
          (await ds.query(`SELECT id, campaign_id FROM assignments WHERE campaign_id = ANY($1::uuid[]) AND status = $2 ORDER BY id`, [cs.map((c) => c.id), status])) as { id: string; campaign_id: string }[];
        const expectRefusal = async (p: Promise<unknown>, codes: string[]) => {
          await p.then(
            () => undefined,
            (err) => {
              if (!codes.includes(err?.code)) throw err;
            },
          );
        };

        for (const c of cmds) {
          switch (c.op) {
            case 'fund':
              await fund(c.amount);
              break;
            case 'publish': {
              const cash0 = await bal(cash(r.id, 'usd'));
              const tasks = Number((await ds.query(`SELECT count(*) AS n FROM tasks WHERE campaign_id = $1`, [cs[c.c].id]))[0].n);
              const need = escrowFor(cs[c.c].reward, cs[c.c].max * tasks, t.config.platformFeeBps).total;
              const res = await campaigns.transition(r.id, cs[c.c].id, 'publish').then(
                () => 'ok',
                (err) => err?.code,
              );
              if (res === 'INSUFFICIENT_FUNDS') (expect(cash0).toBeLessThan(need), seen.refusedPublish++);
              else if (res === 'ok') (expect(await bal(cash(r.id, 'usd'))).toBe(cash0 - need), seen.published++);
              else expect(res).toBe('CAMPAIGN_STATUS_CONFLICT');
              break;
            }
            case 'import':
              await expectRefusal(addItems(cs[c.c].id, 1), ['INSUFFICIENT_FUNDS', 'CAMPAIGN_STATUS_CONFLICT']);
              break;
            case 'claim': {
              if (live.has(c.w)) break;
              await claimUc.execute({ workerId: workers[c.w].id, campaignId: cs[c.c].id }).then(
                (x) => live.set(c.w, x.assignmentId),
                (err) => {
                  if (!['NO_TASK_AVAILABLE', 'CAMPAIGN_NOT_OPEN'].includes(err?.code)) throw err;
                },
              );
              break;
            }
            case 'work': {
              if (live.has(c.w)) break;
              const claimed = await claimUc.execute({ workerId: workers[c.w].id, campaignId: cs[c.c].id }).then(
                (x) => x,
                (err) => {
                  if (!['NO_TASK_AVAILABLE', 'CAMPAIGN_NOT_OPEN'].includes(err?.code)) throw err;
                  return null;
                },
              );
              if (claimed) await submitUc.execute({ workerId: workers[c.w].id, assignmentId: claimed.assignmentId, answer: { label: ['a', 'b'][c.label] } });
              break;
            }
            case 'submit': {
              const a = live.get(c.w);
              if (!a) break;
              live.delete(c.w);
              await expectRefusal(submitUc.execute({ workerId: workers[c.w].id, assignmentId: a, answer: { label: ['a', 'b'][c.label] } }), ['LEASE_EXPIRED']);
              break;
            }
            case 'return': {
              const a = live.get(c.w);
              if (!a) break;
              live.delete(c.w);
              await expectRefusal(returnUc.execute({ workerId: workers[c.w].id, assignmentId: a }), ['ASSIGNMENT_NOT_CLAIMED']);
              break;
            }
            case 'approve':
            case 'reject': {
              const subs = await ofStatus('submitted');
              if (!subs.length) break;
              const a = subs[c.pick % subs.length];
              if (c.op === 'approve') await review.approve(r.id, a.id);
              else await review.reject(r.id, a.id, 'property test rejection');
              break;
            }
            case 'reverse': {
              const rej = await ofStatus('rejected');
              if (!rej.length) break;
              const a = rej[c.pick % rej.length];
              await review.approve(r.id, a.id, { overrideRejection: true });
              cs.find((x) => x.id === a.campaign_id)!.reversed = true;
              seen.reversed++;
              break;
            }
            case 'bulk': {
              const subs = (await ofStatus('submitted')).filter((a) => a.campaign_id === cs[c.c].id);
              if (subs.length) await review.bulk({ reviewerId: r.id, campaignId: cs[c.c].id, assignmentIds: subs.map((a) => a.id), decision: 'approve' });
              break;
            }
            case 'cancel':
              await expectRefusal(cancel.execute(r.id, cs[c.c].id), ['CAMPAIGN_STATUS_CONFLICT']);
              for (const [w, a] of live) if ((await ds.query(`SELECT status FROM assignments WHERE id = $1`, [a]))[0].status !== 'claimed') live.delete(w);
              break;
          }
        }
        await complete.settleEscrows();

        // Paid exactly when approved, once.
        const rows: { id: string; campaign_id: string; worker_id: string; status: string; paid: number }[] = await ds.query(
          `SELECT a.id, a.campaign_id, a.worker_id, a.status,
                  (SELECT count(*)::int FROM ledger_transactions t WHERE t.idempotency_key = 'approve:' || a.id) AS paid
             FROM assignments a WHERE a.campaign_id = ANY($1::uuid[])`,
          [cs.map((c) => c.id)],
        );
        for (const a of rows) expect({ id: a.id, paid: a.paid }).toEqual({ id: a.id, paid: a.status === 'approved' ? 1 : 0 });
        seen.submitted += rows.filter((a) => ['submitted', 'approved', 'rejected'].includes(a.status)).length;
        seen.approved += rows.filter((a) => a.status === 'approved').length;
        seen.rejected += rows.filter((a) => a.status === 'rejected').length;
        seen.cancelled += Number((await ds.query(`SELECT count(*) AS n FROM campaigns WHERE id = ANY($1::uuid[]) AND status = 'cancelled'`, [cs.map((c) => c.id)]))[0].n);
        seen.completedTasks += Number((await ds.query(`SELECT count(*) AS n FROM tasks WHERE campaign_id = ANY($1::uuid[]) AND status = 'complete'`, [cs.map((c) => c.id)]))[0].n);
        const reward = new Map(cs.map((c) => [c.id, c.reward]));
        for (const w of workers) {
          const earned = rows.filter((a) => a.worker_id === w.id && a.status === 'approved').reduce((sum, a) => sum + reward.get(a.campaign_id)!, 0);
          expect(await bal(payable(w.id, 'usd'))).toBe(earned);
        }
        // The requester's money is conserved.
        let held = await bal(cash(r.id, 'usd'));
        for (const c of cs) {
          const story = await reports.campaignStory(c.id);
          const approvals = rows.filter((a) => a.campaign_id === c.id && a.status === 'approved').length;
          const perSlot = escrowFor(c.reward, 1, t.config.platformFeeBps).perSlot;
          const esc = await bal(escrow(c.id, 'usd'));
          held += esc + approvals * perSlot;
          expect(story.escrowedMinor - (story.paidMinor + story.feesMinor - story.paidFromCashMinor) - story.releasedMinor).toBe(esc);
          // (a zero-reward approval moves no money: the story counts paying approvals)
          expect(story.approvals).toBe(c.reward > 0 ? approvals : 0);
          if (!c.reversed) expect(story.paidFromCashMinor).toBe(0);
          const [{ status, pending }] = await ds.query(
            `SELECT c.status, (SELECT count(*)::int FROM assignments a WHERE a.campaign_id = c.id AND a.status IN ('claimed','submitted')) AS pending FROM campaigns c WHERE c.id = $1`,
            [c.id],
          );
          if (status === 'cancelled' || status === 'completed') expect(esc).toBeLessThanOrEqual(pending * perSlot);
        }
        expect(held).toBe(credited);
      }),
      { numRuns: 30, seed: 20261128, endOnFailure: true },
    );
    // The sequences did reach every path (a property over no-ops proves nothing).
    console.log(`[money property] ${n} sequences: ${JSON.stringify(seen)}`);
    for (const k of Object.keys(seen) as (keyof typeof seen)[]) expect({ [k]: seen[k] > 0 }).toEqual({ [k]: true });
    const tb = await reports.trialBalance();
    expect(tb).toMatchObject({ balanced: true, cacheMismatches: [], unbalancedTransactions: [] });
  });
});
