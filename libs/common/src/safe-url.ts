import { lookup as dnsLookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import { BlockList, isIP } from 'node:net';
import { DomainError } from './domain-error';

/**
 * Fetching URLs that users gave us (item images, webhook endpoints) without server-side request
 * forgery: only http(s), no credentials in the URL, and every address the name resolves to must be
 * public (not loopback, private, link-local, CGNAT, multicast, documentation or otherwise reserved,
 * in IPv4 or IPv6, including IPv4-mapped and NAT64 forms). The connection then goes to the address
 * that was checked (the DNS answer is pinned, so a second lookup cannot swap in 127.0.0.1), and
 * each redirect is checked again the same way.
 */
export interface SafeUrlOptions {
  /** Hosts (`name` or `name:port`) trusted even on a private address: a self-hosted image server, tests. */
  allowHosts?: readonly string[];
  /** Field named in the 400 when the URL is refused (default `url`). */
  field?: string;
}

export interface SafeFetchOptions extends SafeUrlOptions {
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string | Buffer;
  timeoutMs?: number;
  /** Largest body read; a bigger response is refused (default 10 MB). */
  maxBytes?: number;
  /** Redirects followed, each re-checked (default 3; 0 returns the 3xx itself). */
  maxRedirects?: number;
}

export interface SafeFetchResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** The URL finally fetched, after redirects. */
  url: string;
}

const blocked = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24],
  ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) blocked.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128], ['::1', 128], ['64:ff9b::', 96], ['64:ff9b:1::', 48], ['100::', 64], ['2001::', 23], ['2001:db8::', 32],
  ['2002::', 16], ['fc00::', 7], ['fe80::', 10], ['fec0::', 10], ['ff00::', 8],
] as const) blocked.addSubnet(net, prefix, 'ipv6');

/** Whether an IP address is on the public internet (false for private, loopback, reserved, ...). */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return !blocked.check(address, 'ipv4');
  if (family !== 6) return false;
  const lower = address.toLowerCase();
  // IPv4-mapped (::ffff:a.b.c.d or ::ffff:xxxx:xxxx) and IPv4-compatible (::a.b.c.d): judge the IPv4 inside.
  const mapped = /^(?:0*:)*?:?(?:ffff:)?(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (mapped) return isPublicAddress(mapped[1]);
  const hexMapped = /^(?:0{0,4}:){0,5}:?ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (hexMapped) {
    const hi = parseInt(hexMapped[1], 16);
    const lo = parseInt(hexMapped[2], 16);
    return isPublicAddress(`${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`);
  }
  return !blocked.check(address, 'ipv6');
}

const refuse = (field: string, problem: string) =>
  new DomainError('UNSAFE_URL', 'invalid', `${field}: ${problem}`, { fields: [{ field, problem }] });

function allowed(url: URL, allowHosts: readonly string[] = []): boolean {
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  return allowHosts.some((h) => {
    const entry = h.trim().toLowerCase();
    return entry === host || entry === `${host}:${port}`;
  });
}

/**
 * Parses and checks a URL; resolves its host and returns the address to connect to.
 * Throws a 400 DomainError (code UNSAFE_URL) naming the field and the reason.
 */
export async function assertPublicHttpUrl(raw: string, opts: SafeUrlOptions = {}): Promise<{ url: URL; address: string; family: 4 | 6 }> {
  const field = opts.field ?? 'url';
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw refuse(field, 'is not a valid URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw refuse(field, `must use http or https (got ${url.protocol})`);
  if (url.username || url.password) throw refuse(field, 'must not contain a user name or password');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  let answers: { address: string; family: number }[];
  if (isIP(host)) answers = [{ address: host, family: isIP(host) }];
  else {
    try {
      answers = await dnsLookup(host, { all: true, verbatim: true });
    } catch {
      throw refuse(field, `host ${host} could not be resolved`);
    }
  }
  if (!answers.length) throw refuse(field, `host ${host} could not be resolved`);
  if (!allowed(url, opts.allowHosts)) {
    const bad = answers.find((a) => !isPublicAddress(a.address));
    if (bad) throw refuse(field, `host ${host} resolves to a non-public address (${bad.address})`);
  }
  return { url, address: answers[0].address, family: answers[0].family === 6 ? 6 : 4 };
}

/** One request to a checked URL, connecting to the checked address; redirects are re-checked. */
export async function safeFetch(raw: string, opts: SafeFetchOptions = {}): Promise<SafeFetchResponse> {
  const maxRedirects = opts.maxRedirects ?? 3;
  let current = raw;
  for (let hop = 0; ; hop++) {
    const target = await assertPublicHttpUrl(current, opts);
    const res = await requestPinned(target, opts);
    const location = res.headers.location;
    if (res.status >= 300 && res.status < 400 && location && maxRedirects > 0) {
      if (hop >= maxRedirects) throw refuse(opts.field ?? 'url', `more than ${maxRedirects} redirects`);
      current = new URL(location, target.url).toString();
      continue;
    }
    return res;
  }
}

function requestPinned(target: { url: URL; address: string; family: 4 | 6 }, opts: SafeFetchOptions): Promise<SafeFetchResponse> {
  const { url, address, family } = target;
  const maxBytes = opts.maxBytes ?? 10 * 1024 * 1024;
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.request(
      url,
      {
        method: opts.method ?? 'GET',
        headers: { 'user-agent': 'Tally/0.1 (+https://github.com/tally)', ...opts.headers },
        // Pin the connection to the address that was checked (TLS still verifies the host name).
        lookup: (_host, options, cb) => {
          if ((options as { all?: boolean }).all) (cb as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address, family }]);
          else cb(null, address, family);
        },
        timeout: opts.timeoutMs ?? 10_000,
      },
      (res) => {
        const declared = Number(res.headers['content-length'] ?? 0);
        if (declared > maxBytes) {
          res.destroy();
          return reject(refuse(opts.field ?? 'url', `response is larger than ${maxBytes} bytes`));
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > maxBytes) {
            res.destroy();
            reject(refuse(opts.field ?? 'url', `response is larger than ${maxBytes} bytes`));
          } else chunks.push(c);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), url: url.toString() }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${opts.timeoutMs ?? 10_000} ms`)));
    req.on('error', reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}
