import { DataSource } from 'typeorm';
import { createAdmin, createTestApp, dataSourceOf, seedCampaign, SeedItem, signUp, TestApp, TestUser } from '@tally/testing';
import { seededRandom } from '@tally/common';


type Kind = 'good' | 'noisy' | 'spammer' | 'colluder';
interface SimWorker {
  user: TestUser;
  kind: Kind;
  accuracy: number;
  /** Seconds the worker "spends" on a task (the server measures claim → submit; we backdate the claim). */
  seconds: number;
}

const LABELS = ['a', 'b', 'c', 'd'];
const REAL = 120;
const GOLD = 40;
const MIN = 2;
const MAX = 5;
/** Share of claims that get a gold item (set QUALITY_SIM_GOLD_RATE to try others). */
const GOLD_RATE = Number(process.env.QUALITY_SIM_GOLD_RATE ?? 0.3);

jest.setTimeout(120_000);

/**
 * A seeded crowd through the real HTTP API on a campaign with hidden gold, dynamic overlap
 * (min 2, max 5, target 0.95, Dawid-Skene skills) and the automatic rules: 8 good workers
 * (accuracy 0.9), 4 noisy ones (0.65), 3 spammers (random labels, answering in a second) and a
 * colluding pair (random labels, the second copying the first). It checks that the rules catch
 * the spammers and the pair and leave good workers alone, that the exported labels beat plain
 * majority vote with a fixed redundancy of 3 on the same crowd, and that fewer answers were
 * bought than redundancy max would cost. Figures are printed.
 */
describe('quality: simulated crowd (e2e)', () => {
  let t: TestApp;
  let ds: DataSource;
  let requester: TestUser;
  let admin: TestUser;
  beforeAll(async () => {
    t = await createTestApp();
    ds = dataSourceOf(t);
    requester = await signUp(t, ['requester']);
    admin = await createAdmin(t);
  });
  afterAll(() => t.close());

  it('blocks spammers, flags the colluding pair, and buys better labels for less', async () => {
    const rand = seededRandom(20261128);
    const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
    const truth = new Map<string, string>();
    const items: SeedItem[] = [];
    for (let i = 0; i < REAL; i++) items.push({ payload: { text: `sim real ${i} ${Date.now()}` } });
    for (let i = 0; i < GOLD; i++) items.push({ payload: { text: `sim gold ${i} ${Date.now()}` }, gold: { label: pick(LABELS) } });
    const c = await seedCampaign(t, requester.id, { labels: LABELS, redundancyMin: MIN, redundancyMax: MAX, autoApproveSeconds: 3600 }, items);
    const textToLabel = new Map<string, string>();
    for (let i = 0; i < REAL; i++) textToLabel.set((items[i].payload as { text: string }).text, pick(LABELS));
    for (let i = REAL; i < REAL + GOLD; i++) textToLabel.set((items[i].payload as { text: string }).text, (items[i].gold as { label: string }).label);
    c.taskIds.forEach((id, i) => truth.set(id, textToLabel.get((items[i].payload as { text: string }).text)!));
    await ds.query(`UPDATE campaigns SET gold_rate = $2, gold_pass_mark = 0.6, confidence_target = 0.95, aggregation_method = 'ds' WHERE id = $1`, [c.id, GOLD_RATE]);
    await t.http
      .patch(`/api/campaigns/${c.id}/quality-rules`)
      .set(requester.auth)
      .send({ dynamicOverlap: true, goldMaxExposures: 20, minGoldAnswers: 4, goldAction: 'block', goldStatistic: 'upper-bound', fastAction: 'block', fastFactor: 0.25, fastMinCount: 3, fastMinSample: 20, collusionMinShared: 6, collusionMargin: 0.3, skillAction: 'block', skillMinAnswers: 20 })
      .expect(200);

    const crowd: SimWorker[] = [];
    const add = async (kind: Kind, n: number, accuracy: number, seconds: () => number) => {
      for (let i = 0; i < n; i++) crowd.push({ user: await signUp(t, ['worker'], `sim-${kind}`), kind, accuracy, seconds: seconds() });
    };
    await add('good', 8, 0.9, () => 20 + Math.floor(rand() * 20));
    await add('noisy', 4, 0.65, () => 15 + Math.floor(rand() * 20));
    await add('spammer', 3, 0.25, () => 0);
    await add('colluder', 2, 0.25, () => 25);
    const copied = new Map<string, string>(); // the pair's shared notes: task → label

    const answerOf = (w: SimWorker, taskId: string): string => {
      if (w.kind === 'colluder') {
        const known = copied.get(taskId);
        if (known) return known;
        const l = pick(LABELS);
        copied.set(taskId, l);
        return l;
      }
      if (w.kind === 'spammer') return pick(LABELS);
      const right = truth.get(taskId)!;
      return rand() < w.accuracy ? right : pick(LABELS.filter((l) => l !== right));
    };

    const started = Date.now();
    let submitted = 0;
    let goldClaims = 0;
    const goldIds = new Set(c.taskIds.slice(REAL));
    for (let round = 0; round < 200; round++) {
      let progress = 0;
      const order = [...crowd].sort(() => rand() - 0.5);
      for (const w of order) {
        const res = await t.http.post(`/api/work/campaigns/${c.id}/claim`).set(w.user.auth);
        if (res.status !== 200) {
          expect([403, 409]).toContain(res.status);
          continue;
        }
        if (goldIds.has(res.body.taskId)) goldClaims++;
        if (w.seconds > 0) await ds.query(`UPDATE assignments SET claimed_at = claimed_at - make_interval(secs => $2) WHERE id = $1`, [res.body.assignmentId, w.seconds]);
        const s = await t.http.post(`/api/work/assignments/${res.body.assignmentId}/submit`).set(w.user.auth).send({ answer: { label: answerOf(w, res.body.taskId) } });
        if (s.status === 200) ((submitted++), progress++);
        // the campaign-wide Dawid-Skene job, as the background would run it
        if (submitted % 40 === 0) await t.http.post(`/api/campaigns/${c.id}/quality/reestimate`).set(requester.auth).expect(200);
      }
      if (!progress) break;
    }
    await t.http.post(`/api/campaigns/${c.id}/quality/reestimate`).set(requester.auth).expect(200);
    const wallMs = Date.now() - started;

    // --- the rules acted on the right workers
    const blocked = new Set<string>((await ds.query(`SELECT worker_id FROM campaign_blocks WHERE campaign_id = $1`, [c.id])).map((r: { worker_id: string }) => r.worker_id));
    const flags: { kind: string; worker_ids: string[] }[] = await ds.query(`SELECT kind, worker_ids FROM quality_flags WHERE campaign_id = $1`, [c.id]);
    const flagged = new Set(flags.flatMap((f) => f.worker_ids));
    const of = (k: Kind) => crowd.filter((w) => w.kind === k);
    const spammersCaught = of('spammer').filter((w) => blocked.has(w.user.id)).length;
    const pair = of('colluder').map((w) => w.user.id).sort();
    const pairFlagged = flags.some((f) => f.kind === 'collusion' && [...f.worker_ids].sort().join() === pair.join());
    const honestTouched = of('good').filter((w) => blocked.has(w.user.id) || flagged.has(w.user.id)).length;
    const whyTouched: string[] = (
      await ds.query(`SELECT l.rule, l.reason FROM quality_rule_log l WHERE l.campaign_id = $1 AND l.worker_id = ANY($2::uuid[])`, [c.id, of('good').map((w) => w.user.id)])
    ).map((r: { rule: string; reason: string }) => `${r.rule}: ${r.reason}`);

    // --- exported labels against the truth
    const exp = await t.http.get(`/api/campaigns/${c.id}/results`).query({ format: 'jsonl' }).set(requester.auth).expect(200);
    const rows: { taskId: string; label: string; status: string; lowConfidence: boolean; answers: number }[] = exp.text.trim().split('\n').map((l) => JSON.parse(l));
    expect(rows).toHaveLength(REAL);
    const complete = rows.filter((r) => r.status === 'complete');
    const accuracy = rows.filter((r) => r.label === truth.get(r.taskId)).length / REAL;
    // answers submitted to real tasks, and of those the ones paid for (rejected answers of blocked workers are not)
    const [{ bought, paid }]: { bought: number; paid: number }[] = await ds.query(
      `SELECT count(*)::int AS bought, count(*) FILTER (WHERE a.status <> 'rejected')::int AS paid
         FROM assignments a JOIN tasks t ON t.id = a.task_id WHERE a.campaign_id = $1 AND a.submitted_at IS NOT NULL AND t.status <> 'gold'`,
      [c.id],
    );

    const [{ goldPaid }]: { goldPaid: number }[] = await ds.query(
      `SELECT count(*)::int AS "goldPaid" FROM assignments a JOIN tasks t ON t.id = a.task_id
        WHERE a.campaign_id = $1 AND a.submitted_at IS NOT NULL AND t.status = 'gold' AND a.status <> 'rejected' AND a.gold_correct`,
      [c.id],
    );

    // --- the baseline: plain majority vote, fixed redundancy 3 (and 5), on the same crowd model
    const mv = (k: number) => {
      const r2 = seededRandom(7);
      let right = 0;
      for (const id of c.taskIds.slice(0, REAL)) {
        const ws = [...crowd].sort(() => r2() - 0.5).slice(0, k);
        const votes = new Map<string, number>();
        let pairVote: string | undefined;
        for (const w of ws) {
          let l: string;
          if (w.kind === 'colluder') l = pairVote ??= LABELS[Math.floor(r2() * 4)];
          else if (w.kind === 'spammer') l = LABELS[Math.floor(r2() * 4)];
          else l = r2() < w.accuracy ? truth.get(id)! : LABELS.filter((x) => x !== truth.get(id))[Math.floor(r2() * 3)];
          votes.set(l, (votes.get(l) ?? 0) + 1);
        }
        const top = Math.max(...votes.values());
        const winners = [...votes].filter(([, v]) => v === top).map(([l]) => l);
        if (winners[Math.floor(r2() * winners.length)] === truth.get(id)) right++;
      }
      return right / REAL;
    };
    const mv3 = mv(3);
    const mv5 = mv(5);

    const report = {
      tasks: REAL,
      complete: complete.length,
      lowConfidence: rows.filter((r) => r.lowConfidence).length,
      accuracy,
      mv3Accuracy: mv3,
      mv5Accuracy: mv5,
      answersSubmitted: bought,
      answersPaid: paid,
      paidVsFixed5: +(paid / (REAL * 5)).toFixed(3),
      goldPaid,
      paidWithGoldVsFixed5: +((paid + goldPaid) / (REAL * 5)).toFixed(3),
      goldRate: GOLD_RATE,
      goldClaims,
      spammersCaught: `${spammersCaught}/3`,
      pairFlagged,
      goodWorkersBlockedOrFlagged: honestTouched,
      whyTouched,
      noisyBlocked: of('noisy').filter((w) => blocked.has(w.user.id)).length,
      wallMs,
    };
    // eslint-disable-next-line no-console
    console.log(`quality simulation: ${JSON.stringify(report)}`);

    expect(complete.length).toBe(REAL);
    expect(spammersCaught).toBe(3);
    // The ring is caught: flagged as a pair, or both blocked (the skill and gold rules often get there
    // first). Once one of them is blocked the other is a lone random answerer, and the campaign may end
    // before the rules have the evidence to judge them (fewer than skillMinAnswers answers): that one
    // may go free, but never with enough answers to be judged.
    const [loose] = pair.filter((id) => !blocked.has(id));
    const looseAnswers = loose
      ? (await ds.query(`SELECT count(*)::int AS n FROM assignments WHERE campaign_id = $1 AND worker_id = $2 AND submitted_at IS NOT NULL`, [c.id, loose]))[0].n
      : 0;
    const ringCaught = pairFlagged || pair.every((id) => blocked.has(id)) || (pair.some((id) => blocked.has(id)) && looseAnswers < 20);
    expect({ ringCaught, pairFlagged, blocked: pair.filter((id) => blocked.has(id)).length, looseAnswers }).toMatchObject({ ringCaught: true });
    // the gold rule judges the Wilson upper bound (goldStatistic upper-bound): a good worker's bad
    // streak is not punished (simulated: 0.015% over 20 golds), so no good worker may be touched
    expect(honestTouched).toBe(0);
    expect(accuracy).toBeGreaterThan(mv3);
    expect(bought).toBeLessThan(REAL * MAX);
    // dynamic overlap with re-decisions after exclusions and the Dawid-Skene accuracy rule (spam is
    // blocked, so not paid): measured 0.58–0.63 of fixed redundancy 5 at better accuracy; bound with margin
    expect(paid).toBeLessThan(REAL * 5 * 0.7);
    expect(accuracy).toBeGreaterThanOrEqual(mv5);
    // the admin sees the rule log with reasons
    const log = await t.http.get('/api/admin/quality/rule-log').query({ campaignId: c.id, limit: 200 }).set(admin.auth).expect(200);
    expect(log.body.items.filter((e: { action: string }) => e.action === 'block').length).toBe(blocked.size);
  }, 300_000);
});
