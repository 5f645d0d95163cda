import { AddressInfo } from 'node:net';
import { DataSource } from 'typeorm';
import { createTestApp, dataSourceOf, onEmbeddedPostgres, seedCampaign, seedUsers, signUp, TestApp, TestUser } from '@tally/testing';
import { ClaimTaskUseCase, SubmitAnswerUseCase } from '@tally/work';

/**
 * The marketplace's invariants under load: ≥100 workers claim and submit against one campaign in
 * parallel over real HTTP. On the embedded PGlite transactions run one at a time, so the run is
 * smaller there; the invariants are the same.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/tally_h3 npx jest test/work-concurrency
 */
const embedded = onEmbeddedPostgres();
const WORKERS = Number(process.env.LOAD_WORKERS) || (embedded ? 100 : 120);
const TASKS = Number(process.env.LOAD_TASKS) || (embedded ? 40 : 1000);
const NEEDED = 3;

describe('work under concurrency (e2e)', () => {
  let t: TestApp;
  let ds: DataSource;
  let base: string;
  beforeAll(async () => {
    t = await createTestApp();
    ds = dataSourceOf(t);
    await t.app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
  });
  afterAll(() => t.close());

  /** Zero over-assignment, zero duplicate (task, worker), every task complete with exactly NEEDED answers. */
  async function expectInvariants(campaignId: string) {
    const c = { id: campaignId };
      const overAssigned = await ds.query(
        `SELECT t.id, t.needed, count(a.id)::int AS live FROM tasks t JOIN assignments a ON a.task_id = t.id
          WHERE t.campaign_id = $1 AND a.status IN ('claimed','submitted','approved')
          GROUP BY t.id, t.needed HAVING count(a.id) > t.needed`,
        [c.id],
      );
      expect(overAssigned).toEqual([]);
      const duplicates = await ds.query(
        `SELECT task_id, worker_id FROM assignments WHERE campaign_id = $1 GROUP BY task_id, worker_id HAVING count(*) > 1`,
        [c.id],
      );
      expect(duplicates).toEqual([]);
      const tasks: { status: string; answers_count: number; taken: number; submitted: number; consensus: { answers: number } | null }[] = await ds.query(
        `SELECT t.status, t.answers_count, t.taken, t.consensus,
                (SELECT count(*)::int FROM assignments a WHERE a.task_id = t.id AND a.status = 'submitted') AS submitted
           FROM tasks t WHERE t.campaign_id = $1`,
        [c.id],
      );
      expect(tasks).toHaveLength(TASKS);
      const wrong = tasks.filter((x) => x.status !== 'complete' || x.answers_count !== NEEDED || x.taken !== NEEDED || x.submitted !== NEEDED || x.consensus?.answers !== NEEDED);
      expect(wrong).toEqual([]);
  }

  it(`${WORKERS} parallel workers: no over-assignment, no duplicate, every task complete with exactly ${NEEDED} answers`, async () => {
    const requester = await signUp(t, ['requester']);
    const c = await seedCampaign(t, requester.id, { redundancyMin: NEEDED, labels: ['a', 'b', 'c'] }, TASKS);
    const workers = await seedUsers(t, WORKERS);

    const post = async (path: string, token: string, body?: unknown) => {
      const res = await fetch(`${base}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };

    const unexpected: string[] = [];
    let answers = 0;
    const started = Date.now();
    await Promise.all(
      workers.map(async (w, i) => {
        for (;;) {
          const claim = await post(`/api/work/campaigns/${c.id}/claim`, w.token);
          if (claim.status === 409 && claim.body.code === 'NO_TASK_AVAILABLE') return;
          if (claim.status !== 200) return void unexpected.push(`claim ${claim.status} ${JSON.stringify(claim.body)}`);
          const label = ['a', 'b', 'c'][(i + answers) % 3];
          const sub = await post(`/api/work/assignments/${claim.body.assignmentId}/submit`, w.token, { answer: { label }, durationMs: 1000 });
          if (sub.status !== 200) return void unexpected.push(`submit ${sub.status} ${JSON.stringify(sub.body)}`);
          answers++;
        }
      }),
    );
    const seconds = (Date.now() - started) / 1000;
    const rate = answers / seconds;
    // eslint-disable-next-line no-console
    console.log(
      `[concurrency] ${embedded ? 'embedded PGlite' : 'PostgreSQL server'}: ${WORKERS} workers, ${TASKS} tasks x ${NEEDED}: ` +
        `${answers} answers (claim + submit over HTTP) in ${seconds.toFixed(2)} s = ${rate.toFixed(0)} answers/s`,
    );

    expect(unexpected).toEqual([]);
    expect(answers).toBe(TASKS * NEEDED);
    await expectInvariants(c.id);
  }, 300_000);

  it(`the same load straight on the use cases (no HTTP): the claim path's database rate`, async () => {
    const requester = await signUp(t, ['requester']);
    const c = await seedCampaign(t, requester.id, { redundancyMin: NEEDED, labels: ['a', 'b', 'c'] }, TASKS);
    const workers: TestUser[] = await seedUsers(t, WORKERS);
    const claim = t.app.get(ClaimTaskUseCase);
    const submit = t.app.get(SubmitAnswerUseCase);
    let answers = 0;
    const started = Date.now();
    await Promise.all(
      workers.map(async (w, i) => {
        for (;;) {
          let assignmentId: string;
          try {
            assignmentId = (await claim.execute({ workerId: w.id, campaignId: c.id })).assignmentId;
          } catch (err) {
            if ((err as { code?: string }).code === 'NO_TASK_AVAILABLE') return;
            throw err;
          }
          await submit.execute({ workerId: w.id, assignmentId, answer: { label: ['a', 'b', 'c'][(i + answers) % 3] }, durationMs: 1000 });
          answers++;
        }
      }),
    );
    const seconds = (Date.now() - started) / 1000;
    // eslint-disable-next-line no-console
    console.log(
      `[concurrency] ${embedded ? 'embedded PGlite' : 'PostgreSQL server'}, use cases without HTTP: ${WORKERS} workers, ${TASKS} tasks x ${NEEDED}: ` +
        `${answers} answers in ${seconds.toFixed(2)} s = ${(answers / seconds).toFixed(0)} answers/s`,
    );
    expect(answers).toBe(TASKS * NEEDED);
    await expectInvariants(c.id);
  }, 300_000);
});
