import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * AWS Signature Version 4 verification (header form, `Authorization: AWS4-HMAC-SHA256 ...`), as
 * AWS documents it: canonical request → string to sign → HMAC chain over the credential scope.
 * Pure: the caller supplies the request parts, the clock and the secret lookup.
 * Checked against AWS's published SigV4 test-suite vectors (sigv4.spec.ts) and against the AWS
 * SDK's own signer (test/mturk.e2e-spec.ts).
 */

export const SIGV4_ALGORITHM = 'AWS4-HMAC-SHA256';
/** AWS refuses a request whose X-Amz-Date is more than 15 minutes off the server's clock. */
export const MAX_CLOCK_SKEW_SECONDS = 15 * 60;

/** The error types AWS's JSON services answer for authentication failures (all HTTP 400 there). */
export type SigV4ErrorType =
  | 'MissingAuthenticationTokenException'
  | 'IncompleteSignatureException'
  | 'InvalidSignatureException'
  | 'UnrecognizedClientException';

export class SigV4Error extends Error {
  constructor(
    readonly type: SigV4ErrorType,
    message: string,
  ) {
    super(message);
    this.name = 'SigV4Error';
  }
}

export interface SignedRequest {
  method: string;
  /** The path as it arrived on the wire (percent-encoded), without the query string. */
  path: string;
  /** The raw query string without '?', or ''. */
  query: string;
  /** Header names in lower case (as Node gives them). */
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export interface ParsedAuthorization {
  accessKeyId: string;
  /** YYYYMMDD of the credential scope. */
  scopeDate: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
  /** X-Amz-Date, YYYYMMDDTHHMMSSZ. */
  amzDate: string;
  requestTime: Date;
}

const sha256Hex = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();

/** RFC 3986 unreserved characters stay; everything else is %XX (upper case), as SigV4 wants. */
export function uriEscape(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * Canonical URI for every service but S3: the path normalised (`.`/`..`/empty segments removed,
 * trailing slash kept) and each segment escaped. The wire path is decoded once first, because
 * the signer escaped the un-encoded path the client handed it.
 */
export function canonicalUri(wirePath: string): string {
  const path = wirePath || '/';
  const segments: string[] = [];
  for (const seg of path.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') segments.pop();
    else segments.push(seg);
  }
  const trailing = path.endsWith('/') && segments.length > 0 ? '/' : '';
  return `/${segments.map((s) => uriEscape(safeDecode(s))).join('/')}${trailing}`;
}

export function canonicalQuery(query: string): string {
  if (!query) return '';
  const pairs = query
    .split('&')
    .filter(Boolean)
    .map((p) => {
      const i = p.indexOf('=');
      const k = i < 0 ? p : p.slice(0, i);
      const v = i < 0 ? '' : p.slice(i + 1);
      return [uriEscape(safeDecode(k.replace(/\+/g, ' '))), uriEscape(safeDecode(v.replace(/\+/g, ' ')))] as const;
    });
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

function headerValue(v: string | string[] | undefined): string {
  const list = Array.isArray(v) ? v : v === undefined ? [] : [v];
  return list.map((x) => x.trim().replace(/\s+/g, ' ')).join(',');
}

const AUTH_RE = /^AWS4-HMAC-SHA256\s+(.*)$/;
const AMZ_DATE_RE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/** Reads the Authorization and X-Amz-Date headers; refuses what AWS refuses before any key lookup. */
export function parseAuthorization(headers: SignedRequest['headers']): ParsedAuthorization {
  const auth = headerValue(headers['authorization']);
  if (!auth) throw new SigV4Error('MissingAuthenticationTokenException', 'Missing Authentication Token');
  const m = AUTH_RE.exec(auth);
  if (!m) throw new SigV4Error('IncompleteSignatureException', `Authorization header requires the ${SIGV4_ALGORITHM} algorithm`);
  const parts = new Map<string, string>();
  for (const kv of m[1].split(',')) {
    const i = kv.indexOf('=');
    if (i > 0) parts.set(kv.slice(0, i).trim(), kv.slice(i + 1).trim());
  }
  const missing = ['Credential', 'SignedHeaders', 'Signature'].filter((k) => !parts.get(k));
  if (missing.length) {
    throw new SigV4Error('IncompleteSignatureException', `Authorization header requires ${missing.map((k) => `'${k}'`).join(', ')} parameter(s). Authorization=${auth.slice(0, 200)}`);
  }
  const cred = parts.get('Credential')!.split('/');
  if (cred.length !== 5 || cred[4] !== 'aws4_request' || !/^\d{8}$/.test(cred[1])) {
    throw new SigV4Error('IncompleteSignatureException', `Credential should be scoped to a valid region, date, service and aws4_request terminator: ${parts.get('Credential')}`);
  }
  const amzDate = headerValue(headers['x-amz-date']);
  const d = AMZ_DATE_RE.exec(amzDate);
  if (!d) throw new SigV4Error('IncompleteSignatureException', `Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header in the format YYYYMMDDTHHMMSSZ. Authorization=${auth.slice(0, 200)}`);
  const requestTime = new Date(Date.UTC(+d[1], +d[2] - 1, +d[3], +d[4], +d[5], +d[6]));
  const signedHeaders = parts.get('SignedHeaders')!.split(';').map((h) => h.trim().toLowerCase());
  if (!signedHeaders.includes('host')) throw new SigV4Error('InvalidSignatureException', `'Host' must be a 'SignedHeader' in the AWS Authorization.`);
  return {
    accessKeyId: cred[0],
    scopeDate: cred[1],
    region: cred[2],
    service: cred[3],
    signedHeaders,
    signature: parts.get('Signature')!.toLowerCase(),
    amzDate,
    requestTime,
  };
}

/** "Signature expired" / "not yet current", with AWS's wording. */
export function checkClock(parsed: ParsedAuthorization, now: Date, skewSeconds = MAX_CLOCK_SKEW_SECONDS): void {
  const diff = (now.getTime() - parsed.requestTime.getTime()) / 1000;
  const fmt = (t: Date) => toAmzDate(t);
  const minutes = Math.round(skewSeconds / 60);
  if (diff > skewSeconds) {
    throw new SigV4Error(
      'InvalidSignatureException',
      `Signature expired: ${parsed.amzDate} is now earlier than ${fmt(new Date(now.getTime() - skewSeconds * 1000))} (${fmt(now)} - ${minutes} min.)`,
    );
  }
  if (-diff > skewSeconds) {
    throw new SigV4Error(
      'InvalidSignatureException',
      `Signature not yet current: ${parsed.amzDate} is still later than ${fmt(new Date(now.getTime() + skewSeconds * 1000))} (${fmt(now)} + ${minutes} min.)`,
    );
  }
}

export function toAmzDate(t: Date): string {
  return t.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

export function canonicalRequest(req: SignedRequest, signedHeaders: string[], payloadHash: string): string {
  const names = [...signedHeaders].sort();
  const headers = names.map((h) => `${h}:${headerValue(req.headers[h])}\n`).join('');
  return [req.method.toUpperCase(), canonicalUri(req.path), canonicalQuery(req.query), headers, names.join(';'), payloadHash].join('\n');
}

export function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
}

/** The signature the client should have sent, given the secret. */
export function expectedSignature(req: SignedRequest, parsed: ParsedAuthorization, secret: string): string {
  const claimed = headerValue(req.headers['x-amz-content-sha256']);
  const bodyHash = sha256Hex(req.body);
  // A client may send the payload hash as a header; it must then be the real one (no UNSIGNED-PAYLOAD here).
  if (claimed && claimed !== bodyHash) throw new SigV4Error('InvalidSignatureException', 'The provided x-amz-content-sha256 header does not match what was computed.');
  const creq = canonicalRequest(req, parsed.signedHeaders, bodyHash);
  const scope = `${parsed.scopeDate}/${parsed.region}/${parsed.service}/aws4_request`;
  const stringToSign = [SIGV4_ALGORITHM, parsed.amzDate, scope, sha256Hex(creq)].join('\n');
  return createHmac('sha256', signingKey(secret, parsed.scopeDate, parsed.region, parsed.service)).update(stringToSign, 'utf8').digest('hex');
}

export interface VerifyOptions {
  now: Date;
  /** The service name the credential scope must name (mturk-requester). */
  service?: string;
  skewSeconds?: number;
}

/**
 * Full check with the secret already found: scope (date = X-Amz-Date's day, service), clock skew,
 * then the signature in constant time. Unknown keys are the caller's to refuse (it looks them up).
 */
export function verifySignature(req: SignedRequest, parsed: ParsedAuthorization, secret: string, opts: VerifyOptions): void {
  if (opts.service && parsed.service !== opts.service) {
    throw new SigV4Error('InvalidSignatureException', `Credential should be scoped to correct service: '${opts.service}'.`);
  }
  if (parsed.scopeDate !== parsed.amzDate.slice(0, 8)) {
    throw new SigV4Error('InvalidSignatureException', `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${parsed.scopeDate}' != '${parsed.amzDate.slice(0, 8)}'`);
  }
  checkClock(parsed, opts.now, opts.skewSeconds);
  for (const h of parsed.signedHeaders) {
    if (req.headers[h] === undefined) throw new SigV4Error('InvalidSignatureException', `Signed header '${h}' is missing from the request.`);
  }
  const expected = Buffer.from(expectedSignature(req, parsed, secret), 'utf8');
  const given = Buffer.from(parsed.signature, 'utf8');
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    throw new SigV4Error(
      'InvalidSignatureException',
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
    );
  }
}
