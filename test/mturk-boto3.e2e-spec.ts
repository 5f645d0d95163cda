import { execFile, spawnSync } from 'node:child_process';
import { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { createAdmin, createTestApp, signUp, TestApp } from '@tally/testing';

/**
 * scripts/mturk-boto3-smoke.py — a boto3 requester script, unchanged but for endpoint and keys —
 * against a Tally started here. boto3 is Python, not an npm package: where it is not installed
 * (`pip install boto3` or `apt-get install python3-boto3`) this suite says so and is skipped;
 * the AWS SDK for JavaScript suite (mturk.e2e-spec.ts) always runs.
 */
const hasBoto3 = spawnSync('python3', ['-c', 'import boto3'], { stdio: 'ignore' }).status === 0;
if (!hasBoto3) console.warn('mturk-boto3.e2e-spec: python3 with boto3 not found; skipped');
const describeIfBoto3 = hasBoto3 ? describe : describe.skip;

jest.setTimeout(60_000);

describeIfBoto3('MTurk requester API with boto3 (e2e)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
    await t.app.listen(0, '127.0.0.1');
  });
  afterAll(() => t.close());

  it('runs a boto3 requester script with only the endpoint and keys changed', async () => {
    const admin = await createAdmin(t);
    const r = await signUp(t, ['requester']);
    await t.http.post('/api/admin/ledger/credits').set(admin.auth).send({ userId: r.id, amountMinor: 1000, currency: 'usd', reason: 'boto3' }).expect(201);
    const key = (await t.http.post('/api/mturk/keys').set(r.auth).send({}).expect(201)).body;
    const port = (t.app.getHttpServer().address() as AddressInfo).port;
    // Asynchronously: the server answering the script lives in this process.
    const { stdout } = await promisify(execFile)('python3', ['scripts/mturk-boto3-smoke.py'], {
      env: { ...process.env, TALLY_MTURK_ENDPOINT: `http://127.0.0.1:${port}/api/mturk`, AWS_ACCESS_KEY_ID: key.accessKeyId, AWS_SECRET_ACCESS_KEY: key.secretAccessKey },
    });
    expect(JSON.parse(stdout)).toEqual({
      balance: '10.00',
      hit: { HITId: expect.any(String), HITStatus: 'Assignable', MaxAssignments: 3, Reward: '0.05' },
      expiration_is_datetime: true,
      get_hit_status: 'Assignable',
      listed: true,
      assignments: 0,
      balance_after: '9.82', // 3 × (0.05 + 20% fee) reserved in escrow at publish
      unknown_hit: ['RequestError', 'AWS.MechanicalTurk.HITDoesNotExist'],
      bad_secret: 'InvalidSignatureException',
    });
  });
});
