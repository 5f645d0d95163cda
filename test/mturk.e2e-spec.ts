import {
  ApproveAssignmentCommand,
  CreateAdditionalAssignmentsForHITCommand,
  CreateHITCommand,
  CreateHITTypeCommand,
  CreateHITWithHITTypeCommand,
  DeleteHITCommand,
  GetAccountBalanceCommand,
  GetAssignmentCommand,
  GetHITCommand,
  ListAssignmentsForHITCommand,
  ListBonusPaymentsCommand,
  ListHITsCommand,
  ListReviewableHITsCommand,
  MTurkClient,
  MTurkServiceException,
  RejectAssignmentCommand,
  RequestError,
  SendBonusCommand,
  UpdateExpirationForHITCommand,
  UpdateHITReviewStatusCommand,
  CreateQualificationTypeCommand,
  GetQualificationTypeCommand,
  ListQualificationTypesCommand,
  AssociateQualificationWithWorkerCommand,
  DisassociateQualificationFromWorkerCommand,
  ListWorkersWithQualificationTypeCommand,
  CreateWorkerBlockCommand,
  DeleteWorkerBlockCommand,
  ListWorkerBlocksCommand,
  NotifyWorkersCommand,
} from '@aws-sdk/client-mturk';
import { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { MturkExpirySweep } from '@tally/mturk';
import { createAdmin, createTestApp, dataSourceOf, selectionForm, signUp, TestApp, TestUser } from '@tally/testing';

/**
 * The MTurk-compatible requester API driven by the official, unmodified AWS SDK client
 * (@aws-sdk/client-mturk): only `endpoint` and the keys (issued by Tally) differ from a script
 * written for Mechanical Turk. Workers answer through Tally's own worker API.
 */
jest.setTimeout(90_000);

const HTML_QUESTION = `<HTMLQuestion xmlns="http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2011-11-11/HTMLQuestion.xsd">
  <HTMLContent><![CDATA[<!DOCTYPE html><html><body><form name="mturk_form" method="post" action="https://www.mturk.com/mturk/externalSubmit">
  <input type="hidden" name="assignmentId" id="assignmentId" value="">
  <p>Is this sentence polite? "Move."</p><input type="radio" name="polite" value="yes"><input type="radio" name="polite" value="no">
  <textarea name="comments"></textarea><input type="submit"></form></body></html>]]></HTMLContent>
  <FrameHeight>450</FrameHeight>
</HTMLQuestion>`;

const EXTERNAL_QUESTION = `<ExternalQuestion xmlns="http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2006-07-14/ExternalQuestion.xsd">
  <ExternalURL>https://survey.example.org/task?id=7</ExternalURL><FrameHeight>600</FrameHeight>
</ExternalQuestion>`;

describe('MTurk requester API with the AWS SDK (e2e)', () => {
  let t: TestApp;
  let ds: DataSource;
  let admin: TestUser;
  let endpoint: string;

  beforeAll(async () => {
    t = await createTestApp();
    ds = dataSourceOf(t);
    await t.app.listen(0, '127.0.0.1');
    endpoint = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}/api/mturk`;
    admin = await createAdmin(t);
  });
  afterAll(() => t.close());

  const credit = (userId: string, amountMinor: number) =>
    t.http.post('/api/admin/ledger/credits').set(admin.auth).send({ userId, amountMinor, currency: 'usd', reason: 'mturk test funds' }).expect(201);

  async function requesterWithKey(funds = 10_000): Promise<{ user: TestUser; key: { accessKeyId: string; secretAccessKey: string }; client: MTurkClient }> {
    const user = await signUp(t, ['requester']);
    if (funds) await credit(user.id, funds);
    const res = await t.http.post('/api/mturk/keys').set(user.auth).send({ label: 'e2e' }).expect(201);
    const key = { accessKeyId: res.body.accessKeyId, secretAccessKey: res.body.secretAccessKey };
    return { user, key, client: client(key) };
  }

  function client(credentials: { accessKeyId: string; secretAccessKey: string }, extra: Partial<ConstructorParameters<typeof MTurkClient>[0]> = {}): MTurkClient {
    return new MTurkClient({ endpoint, region: 'us-east-1', credentials, maxAttempts: 1, ...extra });
  }

  /** A worker answers through Tally's worker API (claim the HIT's campaign, submit). */
  async function answer(worker: TestUser, hitId: string, ans: unknown): Promise<string> {
    const [{ campaign_id }] = await ds.query(`SELECT campaign_id FROM mturk_hits WHERE task_id = $1`, [hitId]);
    const claim = await t.http.post(`/api/work/campaigns/${campaign_id}/claim`).set(worker.auth).expect(200);
    expect(claim.body.taskId).toBe(hitId);
    await t.http.post(`/api/work/assignments/${claim.body.assignmentId}/submit`).set(worker.auth).send({ answer: ans }).expect(200);
    return claim.body.assignmentId;
  }

  const rejects = async (p: Promise<unknown>) => {
    const err = await p.then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(Error);
    return err as MTurkServiceException & { TurkErrorCode?: string; Message?: string };
  };

  it('runs a whole requester flow: HIT type, HIT, answers, review, bonus once, extend / expire, balance', async () => {
    const { client: mturk } = await requesterWithKey(10_000);
    const w1 = await signUp(t, ['worker']);
    const w2 = await signUp(t, ['worker']);

    expect(await mturk.send(new GetAccountBalanceCommand({}))).toMatchObject({ AvailableBalance: '100.00', OnHoldBalance: '0.00' });

    const typeParams = { Title: 'Cat or dog?', Description: 'Pick the animal in the sentence', Keywords: 'animals, text', Reward: '0.50', AssignmentDurationInSeconds: 600, AutoApprovalDelayInSeconds: 86_400 };
    const { HITTypeId } = await mturk.send(new CreateHITTypeCommand(typeParams));
    expect(HITTypeId).toMatch(/^[A-Z2-7]{30}$/);
    expect((await mturk.send(new CreateHITTypeCommand(typeParams))).HITTypeId).toBe(HITTypeId); // equal parameters → same type

    const created = await mturk.send(
      new CreateHITWithHITTypeCommand({ HITTypeId, MaxAssignments: 2, LifetimeInSeconds: 3600, Question: selectionForm('The cat sat on the mat.'), UniqueRequestToken: 'hit-token-1', RequesterAnnotation: 'batch 7' }),
    );
    const hit = created.HIT!;
    expect(hit).toMatchObject({ HITTypeId, HITStatus: 'Assignable', MaxAssignments: 2, Reward: '0.50', Title: 'Cat or dog?', RequesterAnnotation: 'batch 7', NumberOfAssignmentsAvailable: 2, NumberOfAssignmentsPending: 0, NumberOfAssignmentsCompleted: 0, HITReviewStatus: 'NotReviewed' });
    expect(hit.CreationTime).toBeInstanceOf(Date);
    expect(hit.Expiration!.getTime() - Date.now()).toBeGreaterThan(3500_000);

    // The same UniqueRequestToken again: MTurk's answer (HitAlreadyExists naming the HIT), and no second task.
    const dup = await rejects(mturk.send(new CreateHITWithHITTypeCommand({ HITTypeId, MaxAssignments: 2, LifetimeInSeconds: 3600, Question: selectionForm('The cat sat on the mat.'), UniqueRequestToken: 'hit-token-1' })));
    expect(dup).toBeInstanceOf(RequestError);
    expect(dup.TurkErrorCode).toBe('AWS.MechanicalTurk.HitAlreadyExists');
    expect(dup.message).toContain(hit.HITId);
    expect((await ds.query(`SELECT count(*)::int AS n FROM tasks WHERE campaign_id = (SELECT campaign_id FROM mturk_hits WHERE task_id = $1)`, [hit.HITId]))[0].n).toBe(1);

    // Publishing reserved the escrow: 2 assignments × (0.50 + 20% fee) = 1.20 on hold.
    expect(await mturk.send(new GetAccountBalanceCommand({}))).toMatchObject({ AvailableBalance: '98.80', OnHoldBalance: '1.20' });

    // The worker sees the question text and the selections as a single-label task.
    const a1 = await answer(w1, hit.HITId!, { label: 'cat' });
    const a2 = await answer(w2, hit.HITId!, { label: 'dog' });

    const all = await mturk.send(new ListAssignmentsForHITCommand({ HITId: hit.HITId, AssignmentStatuses: ['Submitted'] }));
    expect(all.NumResults).toBe(2);
    const byId = new Map(all.Assignments!.map((a) => [a.AssignmentId, a]));
    // WorkerIds are per-requester pseudonyms in MTurk's shape, never Tally user ids.
    const worker1 = byId.get(a1)!.WorkerId!;
    expect(worker1).toMatch(/^A[A-Z2-7]{13}$/);
    expect(JSON.stringify(all)).not.toContain(w1.id);
    expect(byId.get(a1)).toMatchObject({ HITId: hit.HITId, AssignmentStatus: 'Submitted' });
    expect(byId.get(a1)!.Answer).toContain('<QuestionFormAnswers xmlns="http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2005-10-01/QuestionFormAnswers.xsd">');
    expect(byId.get(a1)!.Answer).toContain('<Answer><QuestionIdentifier>animal</QuestionIdentifier><SelectionIdentifier>cat</SelectionIdentifier></Answer>');
    expect(byId.get(a2)!.Answer).toContain('<SelectionIdentifier>dog</SelectionIdentifier>');
    expect(byId.get(a1)!.SubmitTime).toBeInstanceOf(Date);

    const got = await mturk.send(new GetHITCommand({ HITId: hit.HITId }));
    expect(got.HIT).toMatchObject({ HITStatus: 'Reviewable', NumberOfAssignmentsAvailable: 0, NumberOfAssignmentsPending: 0 });
    const reviewable = await mturk.send(new ListReviewableHITsCommand({ HITTypeId }));
    expect(reviewable.HITs!.map((h) => h.HITId)).toEqual([hit.HITId]);
    await mturk.send(new UpdateHITReviewStatusCommand({ HITId: hit.HITId, Revert: false }));
    expect((await mturk.send(new GetHITCommand({ HITId: hit.HITId }))).HIT!.HITStatus).toBe('Reviewing');
    expect((await mturk.send(new ListReviewableHITsCommand({ Status: 'Reviewing' }))).NumResults).toBe(1);
    await mturk.send(new UpdateHITReviewStatusCommand({ HITId: hit.HITId, Revert: true }));
    expect((await mturk.send(new GetHITCommand({ HITId: hit.HITId }))).HIT!.HITStatus).toBe('Reviewable');

    // Review through Tally's review use case.
    await mturk.send(new ApproveAssignmentCommand({ AssignmentId: a1, RequesterFeedback: 'Thanks!' }));
    const again = await rejects(mturk.send(new ApproveAssignmentCommand({ AssignmentId: a1 })));
    expect(again).toBeInstanceOf(RequestError);
    expect(again.TurkErrorCode).toBe('AWS.MechanicalTurk.InvalidAssignmentState');
    const noFeedback = await rejects(mturk.send(new RejectAssignmentCommand({ AssignmentId: a2 } as never)));
    expect(noFeedback).toBeInstanceOf(RequestError);
    expect(noFeedback.message).toContain('RequesterFeedback');
    await mturk.send(new RejectAssignmentCommand({ AssignmentId: a2, RequesterFeedback: 'The sentence is about a cat.' }));
    const rejected = await mturk.send(new GetAssignmentCommand({ AssignmentId: a2 }));
    expect(rejected.Assignment).toMatchObject({ AssignmentStatus: 'Rejected', RequesterFeedback: 'The sentence is about a cat.' });
    expect(rejected.HIT!.HITId).toBe(hit.HITId);
    const notOverridden = await rejects(mturk.send(new ApproveAssignmentCommand({ AssignmentId: a2 })));
    expect(notOverridden.TurkErrorCode).toBe('AWS.MechanicalTurk.InvalidAssignmentState');
    expect((await mturk.send(new ListAssignmentsForHITCommand({ HITId: hit.HITId, AssignmentStatuses: ['Approved'] }))).Assignments!.map((a) => a.AssignmentId)).toEqual([a1]);

    // A bonus, sent twice with one token, is paid once.
    await mturk.send(new SendBonusCommand({ WorkerId: worker1, AssignmentId: a1, BonusAmount: '0.25', Reason: 'Great work', UniqueRequestToken: 'bonus-1' }));
    const twice = await rejects(mturk.send(new SendBonusCommand({ WorkerId: worker1, AssignmentId: a1, BonusAmount: '0.25', Reason: 'Great work', UniqueRequestToken: 'bonus-1' })));
    expect(twice).toBeInstanceOf(RequestError);
    const wrongWorker = await rejects(mturk.send(new SendBonusCommand({ WorkerId: byId.get(a2)!.WorkerId, AssignmentId: a1, BonusAmount: '0.25', Reason: 'x' })));
    expect(wrongWorker).toBeInstanceOf(RequestError);
    const bonuses = await mturk.send(new ListBonusPaymentsCommand({ HITId: hit.HITId }));
    expect(bonuses.BonusPayments).toEqual([expect.objectContaining({ WorkerId: worker1, AssignmentId: a1, BonusAmount: '0.25', Reason: 'Great work' })]);
    expect((await mturk.send(new ListBonusPaymentsCommand({ AssignmentId: a1 }))).NumResults).toBe(1);
    const paid = await ds.query(`SELECT count(*)::int AS n FROM ledger_transactions WHERE kind = 'bonus' AND reference = (SELECT campaign_id::text FROM mturk_hits WHERE task_id = $1)`, [hit.HITId]);
    expect(paid[0].n).toBe(1);

    // Money: the approval moved reward + fee (0.60) out of escrow, the bonus + fee (0.30) out of cash.
    const bal = await mturk.send(new GetAccountBalanceCommand({}));
    expect(Math.round((Number(bal.AvailableBalance) + Number(bal.OnHoldBalance)) * 100)).toBe(10_000 - 60 - 30);
    expect(bal.AvailableBalance).toBe('98.50');

    // OverrideRejection: the rejected worker is paid after all (reward + fee from the escrow).
    await mturk.send(new ApproveAssignmentCommand({ AssignmentId: a2, OverrideRejection: true }));
    expect((await mturk.send(new GetAssignmentCommand({ AssignmentId: a2 }))).Assignment!.AssignmentStatus).toBe('Approved');
    const afterOverride = await mturk.send(new GetAccountBalanceCommand({}));
    expect(Math.round((Number(afterOverride.AvailableBalance) + Number(afterOverride.OnHoldBalance)) * 100)).toBe(10_000 - 60 - 30 - 60);

    // The rejected answer's slot went back (Tally's rule): the HIT is assignable again, until it expires.
    expect((await mturk.send(new GetHITCommand({ HITId: hit.HITId }))).HIT).toMatchObject({ HITStatus: 'Assignable', NumberOfAssignmentsAvailable: 1 });
    await mturk.send(new UpdateExpirationForHITCommand({ HITId: hit.HITId, ExpireAt: new Date(0) }));
    expect((await mturk.send(new GetHITCommand({ HITId: hit.HITId }))).HIT).toMatchObject({ HITStatus: 'Reviewable', NumberOfAssignmentsAvailable: 0 });
    const w3 = await signUp(t, ['worker']);
    const [{ campaign_id }] = await ds.query(`SELECT campaign_id FROM mturk_hits WHERE task_id = $1`, [hit.HITId]);
    await t.http.post(`/api/work/campaigns/${campaign_id}/claim`).set(w3.auth).expect(409);
    const more = await rejects(mturk.send(new CreateAdditionalAssignmentsForHITCommand({ HITId: hit.HITId, NumberOfAdditionalAssignments: 1 })));
    expect(more.TurkErrorCode).toBe('AWS.MechanicalTurk.InvalidHITState');

    // Extending brings it back; one more assignment makes 3.
    await mturk.send(new UpdateExpirationForHITCommand({ HITId: hit.HITId, ExpireAt: new Date(Date.now() + 7200_000) }));
    await mturk.send(new CreateAdditionalAssignmentsForHITCommand({ HITId: hit.HITId, NumberOfAdditionalAssignments: 1 }));
    expect((await mturk.send(new GetHITCommand({ HITId: hit.HITId }))).HIT).toMatchObject({ HITStatus: 'Assignable', MaxAssignments: 3, NumberOfAssignmentsAvailable: 2 });
    const a3 = await answer(w3, hit.HITId!, { label: 'cat' });

    // DeleteHIT: refused while assignable / with unreviewed work, allowed once expired and reviewed.
    const early = await rejects(mturk.send(new DeleteHITCommand({ HITId: hit.HITId })));
    expect(early.TurkErrorCode).toBe('AWS.MechanicalTurk.InvalidHITState');
    await mturk.send(new UpdateExpirationForHITCommand({ HITId: hit.HITId, ExpireAt: new Date(0) }));
    await rejects(mturk.send(new DeleteHITCommand({ HITId: hit.HITId }))); // a3 still unreviewed
    await mturk.send(new ApproveAssignmentCommand({ AssignmentId: a3 }));
    await mturk.send(new DeleteHITCommand({ HITId: hit.HITId }));
    const gone = await rejects(mturk.send(new GetHITCommand({ HITId: hit.HITId })));
    expect(gone.TurkErrorCode).toBe('AWS.MechanicalTurk.HITDoesNotExist');
    expect((await mturk.send(new ListHITsCommand({}))).HITs!.map((h) => h.HITId)).not.toContain(hit.HITId);
  });

  it('maps HTMLQuestion and ExternalQuestion to text tasks and returns form fields as QuestionFormAnswers', async () => {
    const { client: mturk } = await requesterWithKey();
    const worker = await signUp(t, ['worker']);
    const base = { Title: 'Politeness', Description: 'Judge a sentence', Reward: '0.10', AssignmentDurationInSeconds: 300, LifetimeInSeconds: 600, MaxAssignments: 1 };
    const html = (await mturk.send(new CreateHITCommand({ ...base, Question: HTML_QUESTION }))).HIT!;
    expect(html.Question).toBe(HTML_QUESTION);
    const [{ campaign_id }] = await ds.query(`SELECT campaign_id FROM mturk_hits WHERE task_id = $1`, [html.HITId]);
    const claim = await t.http.post(`/api/work/campaigns/${campaign_id}/claim`).set(worker.auth).expect(200);
    expect(claim.body.taskType).toBe('text');
    expect(claim.body.payload.mturk).toMatchObject({ kind: 'HTMLQuestion', frameHeight: 450 });
    expect(claim.body.payload.mturk.html).toContain('name="polite"');
    await t.http
      .post(`/api/work/assignments/${claim.body.assignmentId}/submit`)
      .set(worker.auth)
      .send({ answer: { text: JSON.stringify({ polite: 'no', comments: 'Too <short> & curt' }) } })
      .expect(200);
    const [a] = (await mturk.send(new ListAssignmentsForHITCommand({ HITId: html.HITId }))).Assignments!;
    expect(a.Answer).toContain('<Answer><QuestionIdentifier>polite</QuestionIdentifier><FreeText>no</FreeText></Answer>');
    expect(a.Answer).toContain('<FreeText>Too &lt;short&gt; &amp; curt</FreeText>');

    const ext = (await mturk.send(new CreateHITCommand({ ...base, Question: EXTERNAL_QUESTION }))).HIT!;
    const [{ payload }] = await ds.query(`SELECT payload FROM tasks WHERE id = $1`, [ext.HITId]);
    expect(payload.mturk).toMatchObject({ kind: 'ExternalQuestion', externalUrl: 'https://survey.example.org/task?id=7', frameHeight: 600 });

    // MTurk's worker side: the external page gets assignmentId / hitId / workerId / turkSubmitTo and posts
    // its form to {turkSubmitTo}/mturk/externalSubmit, authorised by the token in turkSubmitTo alone.
    const path = (u: string) => { const x = new URL(u); return x.pathname + x.search; };
    const [{ campaign_id: extCampaign }] = await ds.query(`SELECT campaign_id FROM mturk_hits WHERE task_id = $1`, [ext.HITId]);
    const extClaim = await t.http.post(`/api/work/campaigns/${extCampaign}/claim`).set(worker.auth).expect(200);
    const frame = (await t.http.get(`/api/mturk/assignments/${extClaim.body.assignmentId}/frame`).set(worker.auth).expect(200)).body;
    const frameUrl = new URL(frame.url);
    expect(frameUrl.origin + frameUrl.pathname).toBe('https://survey.example.org/task');
    expect(Object.fromEntries(frameUrl.searchParams)).toMatchObject({ id: '7', assignmentId: extClaim.body.assignmentId, hitId: ext.HITId, turkSubmitTo: expect.stringContaining('/api/mturk/submit/') });
    expect(frameUrl.searchParams.get('workerId')).toMatch(/^A[A-Z2-7]{13}$/);
    expect(frame.submitUrl).toBe(`${frameUrl.searchParams.get('turkSubmitTo')}/mturk/externalSubmit`);
    const other = await signUp(t, ['worker']);
    await t.http.get(`/api/mturk/assignments/${extClaim.body.assignmentId}/frame`).set(other.auth).expect(404);
    const forged = frame.submitUrl.replace(/\.[A-Za-z0-9_-]+\/mturk\/externalSubmit$/, '.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/mturk/externalSubmit');
    await t.http.post(path(forged)).type('form').send({ assignmentId: extClaim.body.assignmentId, score: '1' }).expect(403);
    await t.http.post(path(frame.submitUrl)).type('form').send(`assignmentId=${extClaim.body.assignmentId}&score=4&tags=a&tags=b`).expect(200);
    const [extAnswer] = (await mturk.send(new ListAssignmentsForHITCommand({ HITId: ext.HITId }))).Assignments!;
    expect(extAnswer.Answer).toContain('<Answer><QuestionIdentifier>score</QuestionIdentifier><FreeText>4</FreeText></Answer><Answer><QuestionIdentifier>tags</QuestionIdentifier><FreeText>a|b</FreeText></Answer>');

    // HTMLQuestion: Tally serves the requester's page sandboxed, with MTurk's submit URL pointed at its own.
    const html2 = (await mturk.send(new CreateHITCommand({ ...base, Question: HTML_QUESTION }))).HIT!;
    const htmlClaim = await t.http.post(`/api/work/campaigns/${campaign_id}/claim`).set(worker.auth).expect(200);
    expect(htmlClaim.body.taskId).toBe(html2.HITId);
    const htmlFrame = (await t.http.get(`/api/mturk/assignments/${htmlClaim.body.assignmentId}/frame`).set(worker.auth).expect(200)).body;
    expect(htmlFrame).toMatchObject({ kind: 'HTMLQuestion', frameHeight: 450 });
    const pageRes = await t.http.get(path(htmlFrame.url)).expect(200);
    // Its own strict CSP, whatever the app-wide one is: sandboxed (opaque origin), framed only by Tally, posting only to externalSubmit.
    const csp: string = pageRes.headers['content-security-policy'];
    const tally = new URL(htmlFrame.submitUrl).origin;
    expect(csp).toMatch(/^sandbox allow-scripts allow-forms;/);
    expect(csp).not.toContain('allow-same-origin');
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain(`form-action ${tally}/api/mturk/submit/`);
    expect(csp).toContain(`frame-ancestors 'self' ${tally}`);
    expect(csp).toContain("frame-src 'none'");
    expect(pageRes.text).toContain(`action="${htmlFrame.submitUrl}"`);
    expect(pageRes.text).not.toContain('mturk.com');
    const submitted = await t.http.post(path(htmlFrame.submitUrl)).type('form').send({ assignmentId: htmlClaim.body.assignmentId, polite: 'yes', comments: '' }).expect(200);
    // The "submitted" page may run exactly its own script (it tells the worker UI to move on).
    expect(submitted.headers['content-security-policy']).toMatch(/^sandbox allow-scripts; default-src 'none'; script-src 'sha256-[A-Za-z0-9+/=]+';/);
    expect(submitted.text).toContain('tally:mturk-submitted');
    const [h2] = (await mturk.send(new ListAssignmentsForHITCommand({ HITId: html2.HITId }))).Assignments!;
    expect(h2.Answer).toContain('<Answer><QuestionIdentifier>polite</QuestionIdentifier><FreeText>yes</FreeText></Answer>');
    await t.http.get(path(htmlFrame.url)).expect(404); // submitted: the page is gone

    // Free text and multi-select QuestionForms become text and multi-label tasks.
    const freeText = `<QuestionForm xmlns="http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2017-11-06/QuestionForm.xsd"><Question><QuestionIdentifier>why</QuestionIdentifier><QuestionContent><Text>Why?</Text></QuestionContent><AnswerSpecification><FreeTextAnswer><Constraints><Length maxLength="50"/></Constraints></FreeTextAnswer></AnswerSpecification></Question></QuestionForm>`;
    const ft = (await mturk.send(new CreateHITCommand({ ...base, Question: freeText }))).HIT!;
    const [c1] = await ds.query(`SELECT c.task_type, c.max_text_length FROM campaigns c JOIN mturk_hits h ON h.campaign_id = c.id WHERE h.task_id = $1`, [ft.HITId]);
    expect(c1).toEqual({ task_type: 'text', max_text_length: 50 });
    const multi = selectionForm('Which animals?').replace('<StyleSuggestion>radiobutton</StyleSuggestion>', '<StyleSuggestion>checkbox</StyleSuggestion><MaxSelectionCount>2</MaxSelectionCount>');
    const ml = (await mturk.send(new CreateHITCommand({ ...base, Question: multi }))).HIT!;
    const [c2] = await ds.query(`SELECT c.task_type, c.labels FROM campaigns c JOIN mturk_hits h ON h.campaign_id = c.id WHERE h.task_id = $1`, [ml.HITId]);
    expect(c2).toEqual({ task_type: 'multi-label', labels: ['cat', 'dog'] });

    // What has no Tally task type, or is malformed, is refused naming the problem; nothing is created.
    const before = (await mturk.send(new ListHITsCommand({ MaxResults: 100 }))).NumResults;
    const twoQuestions = selectionForm('x').replace('</QuestionForm>', selectionForm('y').replace(/^[\s\S]*?<Question>/, '<Question>').replace('animal', 'animal2'));
    const e1 = await rejects(mturk.send(new CreateHITCommand({ ...base, Question: twoQuestions })));
    expect(e1).toBeInstanceOf(RequestError);
    expect(e1.TurkErrorCode).toBe('AWS.MechanicalTurk.UnsupportedQuestion');
    const e2 = await rejects(mturk.send(new CreateHITCommand({ ...base, Question: '<QuestionForm><Question>' })));
    expect(e2.TurkErrorCode).toBe('AWS.MechanicalTurk.XMLParseError');
    const e3 = await rejects(mturk.send(new CreateHITCommand({ ...base, Reward: 'ten cents', Question: HTML_QUESTION })));
    expect(e3.message).toContain('Reward');
    const e4 = await rejects(mturk.send(new CreateHITCommand({ ...base, MaxAssignments: 500, Question: HTML_QUESTION })));
    expect(e4.message).toContain('MaxAssignments');
    expect((await mturk.send(new ListHITsCommand({ MaxResults: 100 }))).NumResults).toBe(before);

    // Pagination: NextToken / MaxResults.
    const everything = (await mturk.send(new ListHITsCommand({ MaxResults: 100 }))).HITs!.map((h) => h.HITId);
    expect(everything).toHaveLength(5);
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const pg = await mturk.send(new ListHITsCommand({ MaxResults: 2, NextToken: token }));
      expect(pg.NumResults).toBe(pg.NextToken ? 2 : 1);
      seen.push(...pg.HITs!.map((h) => h.HITId!));
      token = pg.NextToken;
    } while (token);
    expect(seen).toEqual(everything);
    const bad = await rejects(mturk.send(new ListHITsCommand({ NextToken: 'garbage!' })));
    expect(bad.TurkErrorCode).toBe('AWS.MechanicalTurk.InvalidNextToken');
  });

  it('qualification types, QualificationRequirements and worker blocks go through Tally qualifications and campaign blocks', async () => {
    const { client: mturk } = await requesterWithKey();
    const w1 = await signUp(t, ['worker']);
    const w2 = await signUp(t, ['worker']);
    const base = { Title: 'Qualified work', Description: 'Needs a qualification', Reward: '0.05', AssignmentDurationInSeconds: 300, LifetimeInSeconds: 600, MaxAssignments: 2 };
    const first = (await mturk.send(new CreateHITCommand({ ...base, Question: HTML_QUESTION }))).HIT!;
    await answer(w1, first.HITId!, { text: '{"polite":"yes"}' });
    const [{ WorkerId: worker1 }] = (await mturk.send(new ListAssignmentsForHITCommand({ HITId: first.HITId }))).Assignments!;

    const { QualificationType: qt } = await mturk.send(new CreateQualificationTypeCommand({ Name: 'Trusted annotators', Description: 'Did good work before', QualificationTypeStatus: 'Active', Keywords: 'trusted' }));
    expect(qt).toMatchObject({ Name: 'Trusted annotators', QualificationTypeStatus: 'Active', IsRequestable: false, AutoGranted: false });
    const dup = await rejects(mturk.send(new CreateQualificationTypeCommand({ Name: 'Trusted annotators', Description: 'x', QualificationTypeStatus: 'Active' })));
    expect(dup.TurkErrorCode).toBe('AWS.MechanicalTurk.QualificationTypeAlreadyExists');
    expect((await mturk.send(new GetQualificationTypeCommand({ QualificationTypeId: qt!.QualificationTypeId }))).QualificationType!.Name).toBe('Trusted annotators');
    expect((await mturk.send(new ListQualificationTypesCommand({ MustBeRequestable: false, Query: 'trusted' }))).QualificationTypes!.map((q) => q.QualificationTypeId)).toEqual([qt!.QualificationTypeId]);

    await mturk.send(new AssociateQualificationWithWorkerCommand({ QualificationTypeId: qt!.QualificationTypeId, WorkerId: worker1, IntegerValue: 1 }));
    const holders = await mturk.send(new ListWorkersWithQualificationTypeCommand({ QualificationTypeId: qt!.QualificationTypeId }));
    expect(holders.Qualifications!.map((q) => q.WorkerId)).toEqual([worker1]);
    const unknownWorker = await rejects(mturk.send(new AssociateQualificationWithWorkerCommand({ QualificationTypeId: qt!.QualificationTypeId, WorkerId: 'A2NOTAWORKER000' })));
    expect(unknownWorker.TurkErrorCode).toBe('AWS.MechanicalTurk.WorkerDoesNotExist');

    // A HIT that requires it: the holder may work on it, another worker is refused by Tally's claim check.
    const gated = (await mturk.send(new CreateHITCommand({ ...base, Title: 'Gated', Question: HTML_QUESTION, QualificationRequirements: [{ QualificationTypeId: qt!.QualificationTypeId, Comparator: 'Exists' }] }))).HIT!;
    expect(gated.QualificationRequirements).toEqual([expect.objectContaining({ QualificationTypeId: qt!.QualificationTypeId, Comparator: 'Exists' })]);
    const [{ campaign_id: gatedCampaign }] = await ds.query(`SELECT campaign_id FROM mturk_hits WHERE task_id = $1`, [gated.HITId]);
    const refused = await t.http.post(`/api/work/campaigns/${gatedCampaign}/claim`).set(w2.auth).expect(403);
    expect(refused.body.message).toContain('qualification');
    await answer(w1, gated.HITId!, { text: 'ok' });
    await mturk.send(new DisassociateQualificationFromWorkerCommand({ QualificationTypeId: qt!.QualificationTypeId, WorkerId: worker1, Reason: 'expired' }));
    expect((await mturk.send(new ListWorkersWithQualificationTypeCommand({ QualificationTypeId: qt!.QualificationTypeId }))).NumResults).toBe(0);

    // System qualifications Tally has data for are mapped; the others are refused by name.
    const locale = await rejects(
      mturk.send(new CreateHITCommand({ ...base, Question: HTML_QUESTION, QualificationRequirements: [{ QualificationTypeId: '00000000000000000071', Comparator: 'EqualTo', LocaleValues: [{ Country: 'US' }] }] })),
    );
    expect(locale.TurkErrorCode).toBe('AWS.MechanicalTurk.UnsupportedOperation');
    expect(locale.message).toContain('00000000000000000071');
    const rate = (await mturk.send(new CreateHITCommand({ ...base, Title: 'Rate', Question: HTML_QUESTION, QualificationRequirements: [{ QualificationTypeId: '000000000000000000L0', Comparator: 'GreaterThanOrEqualTo', IntegerValues: [95] }] }))).HIT!;
    const [{ qualification }] = await ds.query(`SELECT c.qualification FROM campaigns c JOIN mturk_hits h ON h.campaign_id = c.id WHERE h.task_id = $1`, [rate.HITId]);
    expect(qualification).toEqual({ minApprovalRate: 0.95 });

    // A requester-wide block: the worker can claim none of this requester's HITs, until it is deleted.
    await mturk.send(new CreateWorkerBlockCommand({ WorkerId: worker1, Reason: 'Spam answers' }));
    expect((await mturk.send(new ListWorkerBlocksCommand({}))).WorkerBlocks).toEqual([{ WorkerId: worker1, Reason: 'Spam answers' }]);
    const later = (await mturk.send(new CreateHITCommand({ ...base, Title: 'After the block', Question: EXTERNAL_QUESTION }))).HIT!;
    const [{ campaign_id: laterCampaign }] = await ds.query(`SELECT campaign_id FROM mturk_hits WHERE task_id = $1`, [later.HITId]);
    const blocked = await t.http.post(`/api/work/campaigns/${laterCampaign}/claim`).set(w1.auth).expect(403);
    expect(blocked.body.message).toContain('Spam answers');
    await mturk.send(new DeleteWorkerBlockCommand({ WorkerId: worker1, Reason: 'appeal accepted' }));
    expect((await mturk.send(new ListWorkerBlocksCommand({}))).NumResults).toBe(0);
    await t.http.post(`/api/work/campaigns/${laterCampaign}/claim`).set(w1.auth).expect(200);

    // NotifyWorkers reaches a worker who worked for this requester (Tally inbox; test/webhooks.e2e-spec.ts has the rest).
    const notify = await mturk.send(new NotifyWorkersCommand({ Subject: 's', MessageText: 'm', WorkerIds: [worker1!] }));
    expect(notify.NotifyWorkersFailureStatuses).toEqual([]);
  });

  it('a HIT past its lifetime hands out no more work once the background sweep has run', async () => {
    const { client: mturk } = await requesterWithKey();
    const worker = await signUp(t, ['worker']);
    const hit = (await mturk.send(new CreateHITCommand({ Title: 'Short-lived', Description: 'd', Reward: '0.05', AssignmentDurationInSeconds: 300, LifetimeInSeconds: 60, MaxAssignments: 3, Question: HTML_QUESTION }))).HIT!;
    expect((await mturk.send(new GetAccountBalanceCommand({}))).OnHoldBalance).toBe('0.18'); // 3 × (0.05 + 0.01 fee)
    // The lifetime passes (moved back instead of waiting a minute).
    await ds.query(`UPDATE mturk_hits SET expires_at = now() - interval '1 second' WHERE task_id = $1`, [hit.HITId]);
    expect(await t.app.get(MturkExpirySweep).tick()).toBeGreaterThanOrEqual(1);
    expect((await mturk.send(new GetHITCommand({ HITId: hit.HITId }))).HIT).toMatchObject({ HITStatus: 'Reviewable', NumberOfAssignmentsAvailable: 0 });
    const [{ campaign_id }] = await ds.query(`SELECT campaign_id FROM mturk_hits WHERE task_id = $1`, [hit.HITId]);
    await t.http.post(`/api/work/campaigns/${campaign_id}/claim`).set(worker.auth).expect(409);
    expect((await ds.query(`SELECT needed, taken FROM tasks WHERE id = $1`, [hit.HITId]))[0]).toEqual({ needed: 0, taken: 0 });
    // Its unused slots' escrow went back to the requester's cash.
    expect(await mturk.send(new GetAccountBalanceCommand({}))).toMatchObject({ AvailableBalance: '100.00', OnHoldBalance: '0.00' });
  });

  it('racing calls with one UniqueRequestToken create one HIT and pay one bonus', async () => {
    const { user, client: mturk } = await requesterWithKey();
    const params = { Title: 'Race', Description: 'same token', Reward: '0.10', AssignmentDurationInSeconds: 300, LifetimeInSeconds: 600, MaxAssignments: 1, Question: HTML_QUESTION, UniqueRequestToken: 'race-1' };
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => mturk.send(new CreateHITCommand(params))));
    const ok = results.filter((r) => r.status === 'fulfilled') as PromiseFulfilledResult<{ HIT?: { HITId?: string } }>[];
    expect(ok).toHaveLength(1);
    for (const r of results.filter((x) => x.status === 'rejected') as PromiseRejectedResult[]) {
      expect(r.reason).toBeInstanceOf(RequestError);
      expect(r.reason.TurkErrorCode).toBe('AWS.MechanicalTurk.HitAlreadyExists');
    }
    const hitId = ok[0].value.HIT!.HITId!;
    expect((await ds.query(`SELECT count(*)::int AS n FROM tasks t JOIN campaigns c ON c.id = t.campaign_id WHERE c.owner_id = $1`, [user.id]))[0].n).toBe(1);
    expect((await ds.query(`SELECT count(*)::int AS n FROM campaigns WHERE owner_id = $1 AND status <> 'cancelled'`, [user.id]))[0].n).toBe(1);

    const worker = await signUp(t, ['worker']);
    const a = await answer(worker, hitId, { text: 'done' });
    const [{ WorkerId }] = (await mturk.send(new ListAssignmentsForHITCommand({ HITId: hitId }))).Assignments!;
    const before = await mturk.send(new GetAccountBalanceCommand({}));
    const bonuses = await Promise.allSettled(
      Array.from({ length: 6 }, () => mturk.send(new SendBonusCommand({ WorkerId, AssignmentId: a, BonusAmount: '1.00', Reason: 'fast', UniqueRequestToken: 'bonus-race' }))),
    );
    expect(bonuses.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const after = await mturk.send(new GetAccountBalanceCommand({}));
    expect(Math.round((Number(before.AvailableBalance) - Number(after.AvailableBalance)) * 100)).toBe(120); // 1.00 + 20% fee, once
    expect((await mturk.send(new ListBonusPaymentsCommand({ AssignmentId: a }))).NumResults).toBe(1);
  });

  it('CreateAdditionalAssignmentsForHIT and extending an expired HIT escrow reward + fee per assignment from the available balance, refuse when short, give unused ones back', async () => {
    const { client: mturk } = await requesterWithKey(400);
    const balance = async () => {
      const b = await mturk.send(new GetAccountBalanceCommand({}));
      return { available: Math.round(Number(b.AvailableBalance) * 100), onHold: Math.round(Number(b.OnHoldBalance) * 100) };
    };
    const base = { Title: `Extra ${randomUUID()}`, Description: 'Pick one', Reward: '0.50', AssignmentDurationInSeconds: 300, LifetimeInSeconds: 3600, MaxAssignments: 1 };
    const campaignOf = async (hitId: string) => (await ds.query(`SELECT campaign_id FROM mturk_hits WHERE task_id = $1`, [hitId]))[0].campaign_id as string;
    const approvalsFromCash = async (campaignId: string) =>
      (await ds.query(`SELECT count(*)::int AS n FROM ledger_transactions WHERE kind = 'approval' AND reference = $1 AND memo LIKE '%from cash%'`, [campaignId]))[0].n;

    // One assignment: 0.50 + 20% fee = 0.60 on hold.
    const hitA = (await mturk.send(new CreateHITCommand({ ...base, Question: selectionForm('A cat.') }))).HIT!;
    expect(await balance()).toEqual({ available: 340, onHold: 60 });

    // Two more: 2 × 0.60 moves from available to on hold, with the HIT growing in the same transaction.
    await mturk.send(new CreateAdditionalAssignmentsForHITCommand({ HITId: hitA.HITId, NumberOfAdditionalAssignments: 2 }));
    expect(await balance()).toEqual({ available: 220, onHold: 180 });
    expect((await mturk.send(new GetHITCommand({ HITId: hitA.HITId }))).HIT).toMatchObject({ MaxAssignments: 3, NumberOfAssignmentsAvailable: 3 });

    // Five more would need 3.00 of 2.20 available: MTurk's InsufficientFunds, and nothing changes.
    const short = await rejects(mturk.send(new CreateAdditionalAssignmentsForHITCommand({ HITId: hitA.HITId, NumberOfAdditionalAssignments: 5 })));
    expect(short).toBeInstanceOf(RequestError);
    expect(short.TurkErrorCode).toBe('AWS.MechanicalTurk.InsufficientFunds');
    expect(await balance()).toEqual({ available: 220, onHold: 180 });
    expect((await mturk.send(new GetHITCommand({ HITId: hitA.HITId }))).HIT).toMatchObject({ MaxAssignments: 3, NumberOfAssignmentsAvailable: 3 });

    // Three workers answer, all approved: every payment comes out of escrow, none out of cash.
    const answersA: string[] = [];
    for (const label of ['cat', 'cat', 'dog']) answersA.push(await answer(await signUp(t, ['worker']), hitA.HITId!, { label }));
    for (const id of answersA) await mturk.send(new ApproveAssignmentCommand({ AssignmentId: id }));
    expect(await balance()).toEqual({ available: 220, onHold: 0 });
    expect(await approvalsFromCash(await campaignOf(hitA.HITId!))).toBe(0);

    // Extra assignments never filled come back when the HIT closes (here: expired with one answer in).
    const hitB = (await mturk.send(new CreateHITCommand({ ...base, Question: selectionForm('A dog.') }))).HIT!;
    await mturk.send(new CreateAdditionalAssignmentsForHITCommand({ HITId: hitB.HITId, NumberOfAdditionalAssignments: 2 }));
    expect(await balance()).toEqual({ available: 40, onHold: 180 });
    const onlyB = await answer(await signUp(t, ['worker']), hitB.HITId!, { label: 'dog' });
    await mturk.send(new UpdateExpirationForHITCommand({ HITId: hitB.HITId, ExpireAt: new Date(0) }));
    expect(await balance()).toEqual({ available: 160, onHold: 60 }); // one slot kept for the answer under review
    await mturk.send(new ApproveAssignmentCommand({ AssignmentId: onlyB }));
    expect(await balance()).toEqual({ available: 160, onHold: 0 });
    expect(await approvalsFromCash(await campaignOf(hitB.HITId!))).toBe(0);

    // A HIT that expired unanswered gave its escrow back; extending it escrows its assignment again.
    const hitC = (await mturk.send(new CreateHITCommand({ ...base, Question: selectionForm('A bird.') }))).HIT!;
    expect(await balance()).toEqual({ available: 100, onHold: 60 });
    await mturk.send(new UpdateExpirationForHITCommand({ HITId: hitC.HITId, ExpireAt: new Date(0) }));
    expect(await balance()).toEqual({ available: 160, onHold: 0 });
    await mturk.send(new UpdateExpirationForHITCommand({ HITId: hitC.HITId, ExpireAt: new Date(Date.now() + 3600_000) }));
    expect(await balance()).toEqual({ available: 100, onHold: 60 });
    await mturk.send(new ApproveAssignmentCommand({ AssignmentId: await answer(await signUp(t, ['worker']), hitC.HITId!, { label: 'cat' }) }));
    expect(await balance()).toEqual({ available: 100, onHold: 0 });
    expect(await approvalsFromCash(await campaignOf(hitC.HITId!))).toBe(0);
    // Five paid assignments at 0.60, nothing else: the trial balance of this requester's money holds.
    expect((await balance()).available).toBe(400 - 5 * 60);
  });

  it('racing CreateAdditionalAssignmentsForHIT calls escrow each extra assignment once; the one that cannot be paid changes nothing', async () => {
    const { client: mturk } = await requesterWithKey(180);
    const hit = (await mturk.send(new CreateHITCommand({ Title: `Race ${randomUUID()}`, Description: 'd', Reward: '0.50', AssignmentDurationInSeconds: 300, LifetimeInSeconds: 3600, MaxAssignments: 1, Question: HTML_QUESTION }))).HIT!;
    const results = await Promise.allSettled([1, 2, 3].map(() => mturk.send(new CreateAdditionalAssignmentsForHITCommand({ HITId: hit.HITId, NumberOfAdditionalAssignments: 1 }))));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
    const refused = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')!.reason as { TurkErrorCode?: string };
    expect(refused.TurkErrorCode).toBe('AWS.MechanicalTurk.InsufficientFunds');
    expect(await mturk.send(new GetAccountBalanceCommand({}))).toMatchObject({ AvailableBalance: '0.00', OnHoldBalance: '1.80' });
    expect((await mturk.send(new GetHITCommand({ HITId: hit.HITId }))).HIT).toMatchObject({ MaxAssignments: 3, NumberOfAssignmentsAvailable: 3 });
  });

  it('refuses a HIT the requester cannot pay for, and leaves nothing behind', async () => {
    const { client: mturk } = await requesterWithKey(0);
    const err = await rejects(
      mturk.send(new CreateHITCommand({ Title: 'Broke', Description: 'no funds', Reward: '1.00', AssignmentDurationInSeconds: 300, LifetimeInSeconds: 600, MaxAssignments: 3, Question: HTML_QUESTION })),
    );
    expect(err).toBeInstanceOf(RequestError);
    expect(err.TurkErrorCode).toBe('AWS.MechanicalTurk.InsufficientFunds');
    expect((await mturk.send(new ListHITsCommand({}))).NumResults).toBe(0);
  });

  it('refuses what AWS refuses: bad signature, unknown and revoked keys, stale requests, unsigned calls; another requester’s HIT is unknown', async () => {
    const { user, key, client: mturk } = await requesterWithKey();
    const hit = (await mturk.send(new CreateHITCommand({ Title: 'Mine', Description: 'd', Reward: '0.05', AssignmentDurationInSeconds: 300, LifetimeInSeconds: 600, Question: HTML_QUESTION }))).HIT!;

    const wrongSecret = await rejects(client({ ...key, secretAccessKey: key.secretAccessKey.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')) }).send(new GetAccountBalanceCommand({})));
    expect(wrongSecret).toBeInstanceOf(MTurkServiceException);
    expect(wrongSecret.name).toBe('InvalidSignatureException');
    expect(wrongSecret.$metadata.httpStatusCode).toBe(400);
    expect(wrongSecret.message).toContain('signature we calculated does not match');

    const unknown = await rejects(client({ accessKeyId: 'AKTLAAAAAAAAAAAAAAAA', secretAccessKey: key.secretAccessKey }).send(new GetAccountBalanceCommand({})));
    expect(unknown.name).toBe('UnrecognizedClientException');

    // Clock 20 minutes behind (no SDK clock-skew retry: maxAttempts 1).
    const stale = await rejects(client(key, { systemClockOffset: -20 * 60_000 }).send(new GetAccountBalanceCommand({})));
    expect(stale.name).toBe('InvalidSignatureException');
    expect(stale.message).toMatch(/^Signature expired: \d{8}T\d{6}Z is now earlier than/);

    // A body changed after signing fails the signature (the raw body is what is verified).
    const tampered = new MTurkClient({ endpoint, region: 'eu-west-1', credentials: key, maxAttempts: 1 });
    tampered.middlewareStack.add((next) => async (args) => {
      // Same length (Content-Length was signed too): one character of the HITId changed.
      const req = args.request as { body: string };
      req.body = req.body.replace(/[0-9a-f](?="\})/, (c) => (c === '0' ? '1' : '0'));
      return next(args);
    }, { step: 'finalizeRequest', priority: 'low' });
    expect((await rejects(tampered.send(new GetHITCommand({ HITId: hit.HITId })))).name).toBe('InvalidSignatureException');
    // Any region is fine when signed properly.
    expect((await new MTurkClient({ endpoint, region: 'eu-west-1', credentials: key, maxAttempts: 1 }).send(new GetHITCommand({ HITId: hit.HITId }))).HIT!.HITId).toBe(hit.HITId);

    const unsigned = await t.http.post('/api/mturk').set('content-type', 'application/x-amz-json-1.1').set('x-amz-target', 'MTurkRequesterServiceV20170117.GetAccountBalance').send('{}');
    expect(unsigned.status).toBe(403);
    expect(unsigned.body.__type ?? JSON.parse(unsigned.text).__type).toBe('MissingAuthenticationTokenException');

    // Someone else's HIT does not exist for you.
    const other = await requesterWithKey();
    const notMine = await rejects(other.client.send(new GetHITCommand({ HITId: hit.HITId })));
    expect(notMine).toBeInstanceOf(RequestError);
    expect(notMine.TurkErrorCode).toBe('AWS.MechanicalTurk.HITDoesNotExist');
    expect((await rejects(other.client.send(new DeleteHITCommand({ HITId: hit.HITId })))).TurkErrorCode).toBe('AWS.MechanicalTurk.HITDoesNotExist');
    expect((await rejects(mturk.send(new GetHITCommand({ HITId: randomUUID() })))).TurkErrorCode).toBe('AWS.MechanicalTurk.HITDoesNotExist');
    expect((await rejects(mturk.send(new GetAssignmentCommand({ AssignmentId: 'nope' })))).TurkErrorCode).toBe('AWS.MechanicalTurk.AssignmentDoesNotExist');

    // Keys: listed without their secret, revoked for good; workers cannot have any.
    const list = await t.http.get('/api/mturk/keys').set(user.auth).expect(200);
    expect(list.body.items).toHaveLength(1);
    expect(list.body.items[0]).toMatchObject({ accessKeyId: key.accessKeyId, secretHint: key.secretAccessKey.slice(-4), revokedAt: null });
    expect(JSON.stringify(list.body)).not.toContain(key.secretAccessKey);
    const [stored] = await ds.query(`SELECT secret_ciphertext FROM mturk_access_keys WHERE access_key_id = $1`, [key.accessKeyId]);
    expect(stored.secret_ciphertext).not.toContain(key.secretAccessKey);
    await t.http.post(`/api/mturk/keys/${key.accessKeyId}/revoke`).set(other.user.auth).expect(404);
    await t.http.post(`/api/mturk/keys/${key.accessKeyId}/revoke`).set(user.auth).expect(200);
    expect((await rejects(mturk.send(new GetAccountBalanceCommand({})))).name).toBe('UnrecognizedClientException');
    const worker = await signUp(t, ['worker']);
    await t.http.post('/api/mturk/keys').set(worker.auth).send({}).expect(403);
    await t.http.post('/api/mturk/keys').send({}).expect(401);
  });
});
