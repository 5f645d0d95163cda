import { SignatureV4 } from '@smithy/signature-v4';
import { HttpRequest } from '@smithy/protocol-http';
import { Sha256 } from '@aws-crypto/sha256-js';
import { canonicalQuery, canonicalUri, checkClock, expectedSignature, parseAuthorization, SignedRequest, SigV4Error, verifySignature } from './sigv4';

/** AWS's published SigV4 test suite (credentials, date and scope shared by every vector). */
const SUITE = { accessKeyId: 'AKIDEXAMPLE', secret: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', amzDate: '20150830T123600Z', scope: '20150830/us-east-1/service/aws4_request' };
const NOW = new Date('2015-08-30T12:36:00Z');

function vector(method: string, path: string, query: string, signature: string, body = ''): SignedRequest {
  return {
    method,
    path,
    query,
    body: Buffer.from(body),
    headers: {
      host: 'example.amazonaws.com',
      'x-amz-date': SUITE.amzDate,
      authorization: `AWS4-HMAC-SHA256 Credential=${SUITE.accessKeyId}/${SUITE.scope}, SignedHeaders=host;x-amz-date, Signature=${signature}`,
    },
  };
}

describe('SigV4 verification', () => {
  it.each([
    ['get-vanilla', 'GET', '/', '', '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31'],
    ['post-vanilla', 'POST', '/', '', '5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b'],
    ['get-vanilla-query-order-key-case', 'GET', '/', 'Param2=value2&Param1=value1', 'b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500'],
  ])('accepts the AWS test-suite vector %s', (_name, method, path, query, signature) => {
    const req = vector(method, path, query, signature);
    const parsed = parseAuthorization(req.headers);
    expect(parsed).toMatchObject({ accessKeyId: 'AKIDEXAMPLE', region: 'us-east-1', service: 'service', signedHeaders: ['host', 'x-amz-date'] });
    expect(expectedSignature(req, parsed, SUITE.secret)).toBe(signature);
    expect(() => verifySignature(req, parsed, SUITE.secret, { now: NOW, service: 'service' })).not.toThrow();
  });

  it('refuses a wrong secret, a changed body, a wrong service and a stale or future date', () => {
    const sig = '5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b';
    const req = vector('POST', '/', '', sig);
    const parsed = parseAuthorization(req.headers);
    const refused = (fn: () => void) => {
      try {
        fn();
      } catch (e) {
        return e as SigV4Error;
      }
      throw new Error('not refused');
    };
    expect(refused(() => verifySignature(req, parsed, 'wrong', { now: NOW })).type).toBe('InvalidSignatureException');
    expect(refused(() => verifySignature({ ...req, body: Buffer.from('{}') }, parsed, SUITE.secret, { now: NOW })).message).toContain('does not match');
    expect(refused(() => verifySignature(req, parsed, SUITE.secret, { now: NOW, service: 'mturk-requester' })).message).toContain("'mturk-requester'");
    const late = refused(() => verifySignature(req, parsed, SUITE.secret, { now: new Date(NOW.getTime() + 16 * 60_000) }));
    expect(late.message).toBe('Signature expired: 20150830T123600Z is now earlier than 20150830T123700Z (20150830T125200Z - 15 min.)');
    expect(refused(() => checkClock(parsed, new Date(NOW.getTime() - 16 * 60_000))).message).toMatch(/^Signature not yet current/);
    expect(() => checkClock(parsed, new Date(NOW.getTime() + 14 * 60_000))).not.toThrow();
  });

  it('tells a missing, incomplete or malformed Authorization header apart', () => {
    expect(() => parseAuthorization({})).toThrow(expect.objectContaining({ type: 'MissingAuthenticationTokenException' }));
    expect(() => parseAuthorization({ authorization: 'Bearer x' })).toThrow(expect.objectContaining({ type: 'IncompleteSignatureException' }));
    expect(() => parseAuthorization({ authorization: 'AWS4-HMAC-SHA256 Credential=A/20150830/us-east-1/s/aws4_request', 'x-amz-date': SUITE.amzDate })).toThrow(
      expect.objectContaining({ type: 'IncompleteSignatureException', message: expect.stringContaining("'SignedHeaders'") }),
    );
    expect(() =>
      parseAuthorization({ authorization: 'AWS4-HMAC-SHA256 Credential=A/20150830/us-east-1/s/aws4_request, SignedHeaders=host, Signature=ab' }),
    ).toThrow(expect.objectContaining({ message: expect.stringContaining('X-Amz-Date') }));
    expect(() =>
      parseAuthorization({ authorization: 'AWS4-HMAC-SHA256 Credential=A/20150830/us-east-1/s/aws4_request, SignedHeaders=x-amz-date, Signature=ab', 'x-amz-date': SUITE.amzDate }),
    ).toThrow(expect.objectContaining({ type: 'InvalidSignatureException', message: expect.stringContaining("'Host'") }));
  });

  it('canonicalises paths and queries as SigV4 does for non-S3 services', () => {
    expect(canonicalUri('')).toBe('/');
    expect(canonicalUri('/api/mturk/')).toBe('/api/mturk/');
    expect(canonicalUri('/example/../a/./b//c')).toBe('/a/b/c');
    expect(canonicalUri('/example%20space/')).toBe('/example%20space/');
    expect(canonicalUri('/ünicode')).toBe('/%C3%BCnicode');
    expect(canonicalQuery('b=2&a=1&a=0&x')).toBe('a=0&a=1&b=2&x=');
    expect(canonicalQuery("k=it's*")).toBe('k=it%27s%2A');
  });

  it("verifies what the AWS SDK's own signer produces, for random bodies, paths and regions", async () => {
    const now = new Date();
    for (let i = 0; i < 20; i++) {
      const secret = `secret-${i}-${Math.random().toString(36)}`;
      const region = ['us-east-1', 'eu-west-1', 'ap-south-2', 'tally'][i % 4];
      const signer = new SignatureV4({ service: 'mturk-requester', region, sha256: Sha256, credentials: { accessKeyId: `AKTL${i}`, secretAccessKey: secret } });
      const body = JSON.stringify({ HITId: `h-${i}`, Text: 'ünïcode & "quotes" ' + 'x'.repeat(i * 37) });
      const path = i % 2 ? '/api/mturk/' : '/api/mturk';
      const query = i % 3 ? '' : `z=${i}&a=b%20c`;
      const signed = await signer.sign(
        new HttpRequest({
          method: 'POST',
          hostname: 'tally.example',
          port: 3000 + i,
          path,
          query: query ? { z: String(i), a: 'b c' } : {},
          headers: { host: `tally.example:${3000 + i}`, 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'MTurkRequesterServiceV20170117.GetHIT' },
          body,
        }),
        { signingDate: now },
      );
      const headers = Object.fromEntries(Object.entries(signed.headers).map(([k, v]) => [k.toLowerCase(), v]));
      const req: SignedRequest = { method: 'POST', path, query, headers, body: Buffer.from(body) };
      const parsed = parseAuthorization(req.headers);
      expect(() => verifySignature(req, parsed, secret, { now, service: 'mturk-requester' })).not.toThrow();
      expect(() => verifySignature({ ...req, body: Buffer.from(body + ' ') }, parsed, secret, { now })).toThrow(SigV4Error);
    }
  });
});
