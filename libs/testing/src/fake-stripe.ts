import { createHash, randomBytes } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import Stripe from 'stripe';

/**
 * A local Stripe for tests: a node:http server the real `stripe` SDK talks to
 * (new Stripe(key, { host: '127.0.0.1', port, protocol: 'http' })). It parses Stripe's
 * form-encoded bodies, records every request, honours Idempotency-Key as Stripe does (same key and
 * same request → the stored response replayed; same key, other request → 400 idempotency_error),
 * injects failures and timeouts, and builds webhook events signed with the SDK's test-header helper.
 *
 * Implemented: checkout sessions (create), accounts (create, retrieve), account links (create),
 * transfers (create, list by transfer_group / destination, retrieve, reversals).
 */

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body: Record<string, unknown>;
  idempotencyKey?: string;
  replayed: boolean;
  status: number;
}

export interface FailureSpec {
  method?: string;
  /** Matches the path (without query). */
  path: RegExp;
  /** HTTP status to answer (default 500). */
  status?: number;
  /** Process the request (e.g. create the transfer) and then fail the response: "Stripe did it, we never heard". */
  afterProcessing?: boolean;
  /** Hold the response this long (ms) before answering: with a short SDK timeout this is a timeout. */
  delayMs?: number;
  /** Close the socket instead of answering. */
  destroy?: boolean;
  /** How many matching requests fail (default 1). */
  times?: number;
}

type Obj = Record<string, any>;

const id = (prefix: string) => `${prefix}_${randomBytes(12).toString('hex')}`;
const now = () => Math.floor(Date.now() / 1000);

/** Parses `a=1&b[c]=2&d[0][e]=3` into nested objects / arrays, as Stripe's API does. */
export function parseStripeForm(body: string): Record<string, unknown> {
  const out: Obj = {};
  for (const [rawKey, value] of new URLSearchParams(body)) {
    const parts = rawKey.replace(/\]/g, '').split('[');
    let cur: Obj = out;
    parts.forEach((p, i) => {
      if (i === parts.length - 1) {
        cur[p] = value;
        return;
      }
      const nextIsIndex = /^\d+$/.test(parts[i + 1]);
      cur[p] ??= nextIsIndex ? [] : {};
      cur = cur[p];
    });
  }
  return out;
}

export class FakeStripe {
  readonly requests: RecordedRequest[] = [];
  readonly sessions = new Map<string, Obj>();
  readonly accounts = new Map<string, Obj>();
  readonly transfers = new Map<string, Obj>();
  readonly secretKey = 'sk_test_fake_0123456789';
  readonly webhookSecret = 'whsec_fake_0123456789abcdef';
  private server?: Server;
  private port = 0;
  private failures: (FailureSpec & { left: number })[] = [];
  private idempotency = new Map<string, { fingerprint: string; status: number; body: string }>();
  /** Accounts to which transfers are refused (400), like a connected account that lost the capability. */
  readonly refuseTransfersTo = new Set<string>();
  private readonly signer = new Stripe('sk_test_signer');

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections?.();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** STRIPE_API_BASE for the app under test. */
  get apiBase(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Env for createTestApp. */
  env(extra: Record<string, string> = {}): Record<string, string> {
    return { STRIPE_SECRET_KEY: this.secretKey, STRIPE_WEBHOOK_SECRET: this.webhookSecret, STRIPE_API_BASE: this.apiBase, ...extra };
  }

  failNext(spec: FailureSpec): void {
    this.failures.push({ ...spec, left: spec.times ?? 1 });
  }

  clearFailures(): void {
    this.failures = [];
  }

  /** Stripe keeps idempotency keys for 24 hours; this makes every stored key "older than that". */
  forgetIdempotencyKeys(): void {
    this.idempotency.clear();
  }

  transfersInGroup(group: string): Obj[] {
    return [...this.transfers.values()].filter((t) => t.transfer_group === group);
  }

  // ------------------------------------------------------------ webhook helpers

  event(type: string, object: Obj, created = now()): Obj {
    return { id: id('evt'), object: 'event', api_version: '2026-10-28.endive', created, livemode: false, type, data: { object }, pending_webhooks: 1, request: { id: null, idempotency_key: null } };
  }

  /** The body and Stripe-Signature header of a delivery; `timestamp` lets tests send stale ones. */
  sign(event: Obj, opts: { timestamp?: number; secret?: string } = {}): { body: string; signature: string } {
    const body = JSON.stringify(event);
    const signature = this.signer.webhooks.generateTestHeaderString({ payload: body, secret: opts.secret ?? this.webhookSecret, timestamp: opts.timestamp });
    return { body, signature };
  }

  /** The customer pays: the session completes with a payment intent. */
  completeCheckout(sessionId: string): { completed: Obj; succeeded: Obj; paymentIntentId: string } {
    const s = this.sessions.get(sessionId);
    if (!s) throw new Error(`no session ${sessionId}`);
    const pi = s.payment_intent ?? id('pi');
    Object.assign(s, { payment_intent: pi, payment_status: 'paid', status: 'complete' });
    const intent = { id: pi, object: 'payment_intent', amount: s.amount_total, amount_received: s.amount_total, currency: s.currency, status: 'succeeded', metadata: s.payment_intent_metadata ?? {}, latest_charge: `ch_${pi.slice(3)}` };
    return { completed: this.event('checkout.session.completed', { ...s }), succeeded: this.event('payment_intent.succeeded', intent), paymentIntentId: pi };
  }

  /** A charge refunded up to `amountRefunded` in total (cumulative, as Stripe reports it). */
  refundEvent(paymentIntentId: string, amount: number, amountRefunded: number, currency: string, metadata: Obj = {}): Obj {
    return this.event('charge.refunded', { id: `ch_${paymentIntentId.slice(3)}`, object: 'charge', payment_intent: paymentIntentId, amount, amount_refunded: amountRefunded, currency, refunded: amount === amountRefunded, metadata });
  }

  disputeEvent(paymentIntentId: string, amount: number, currency: string): Obj {
    return this.event('charge.dispute.created', { id: id('dp'), object: 'dispute', charge: `ch_${paymentIntentId.slice(3)}`, payment_intent: paymentIntentId, amount, currency, status: 'needs_response' });
  }

  /** The worker finished onboarding: transfers become active. */
  enableAccount(accountId: string): Obj {
    const a = this.accounts.get(accountId);
    if (!a) throw new Error(`no account ${accountId}`);
    Object.assign(a, { charges_enabled: true, payouts_enabled: true, details_submitted: true, capabilities: { transfers: 'active' } });
    return this.event('account.updated', { ...a });
  }

  /** Reverses (part of) a transfer as the platform or Stripe would, returning the webhook event. */
  reverseTransfer(transferId: string, amount?: number): Obj {
    const t = this.transfers.get(transferId);
    if (!t) throw new Error(`no transfer ${transferId}`);
    const amt = amount ?? t.amount - t.amount_reversed;
    t.amount_reversed += amt;
    t.reversed = t.amount_reversed === t.amount;
    t.reversals.data.push({ id: id('trr'), object: 'transfer_reversal', amount: amt, transfer: t.id });
    return this.event('transfer.reversed', { ...t });
  }

  // ------------------------------------------------------------ HTTP

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://x');
    const method = req.method ?? 'GET';
    const path = url.pathname;
    const query = Object.fromEntries(url.searchParams);
    const body = parseStripeForm(raw);
    const key = req.headers['idempotency-key'] as string | undefined;
    const rec: RecordedRequest = { method, path, query, body, idempotencyKey: key, replayed: false, status: 0 };
    this.requests.push(rec);

    const send = (status: number, payload: string, extraHeaders: Record<string, string> = {}) => {
      rec.status = status;
      res.writeHead(status, { 'content-type': 'application/json', 'request-id': id('req'), ...extraHeaders });
      res.end(payload);
    };

    if (!String(req.headers.authorization ?? '').startsWith('Bearer sk_')) {
      return send(401, JSON.stringify({ error: { type: 'invalid_request_error', message: 'Invalid API Key provided' } }));
    }

    // Stripe: a key seen before with the same request replays the first response; a different
    // request with the same key is an idempotency_error. Only POSTs carry keys.
    const fingerprint = createHash('sha256').update(`${method} ${path}\n${canonical(body)}`).digest('hex');
    if (key && method === 'POST') {
      const seen = this.idempotency.get(key);
      if (seen) {
        if (seen.fingerprint !== fingerprint) {
          return send(400, JSON.stringify({ error: { type: 'idempotency_error', message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.` } }));
        }
        rec.replayed = true;
        return send(seen.status, seen.body, { 'idempotent-replayed': 'true' });
      }
    }

    const failure = this.failures.find((f) => f.left > 0 && f.path.test(path) && (!f.method || f.method === method));
    if (failure) failure.left--;
    if (failure?.delayMs) await new Promise((r) => setTimeout(r, failure.delayMs));
    if (failure && !failure.afterProcessing) {
      if (failure.destroy) {
        rec.status = -1;
        return void req.socket.destroy();
      }
      // Stripe does not store 5xx responses under the key: a retry runs the request again.
      return send(failure.status ?? 500, JSON.stringify({ error: { type: 'api_error', message: 'injected failure' } }));
    }

    let status = 200;
    let out: Obj;
    try {
      out = this.route(method, path, query, body);
    } catch (e) {
      const err = e as { status?: number; type?: string; message: string; code?: string };
      status = err.status ?? 500;
      out = { error: { type: err.type ?? 'api_error', message: err.message, code: err.code } };
    }
    const payload = JSON.stringify(out);
    if (key && method === 'POST' && status < 500) this.idempotency.set(key, { fingerprint, status, body: payload });
    if (failure?.afterProcessing) {
      if (failure.destroy) {
        rec.status = -1;
        return void req.socket.destroy();
      }
      return send(failure.status ?? 500, JSON.stringify({ error: { type: 'api_error', message: 'injected failure after processing' } }));
    }
    send(status, payload);
  }

  private route(method: string, path: string, query: Record<string, string>, body: Obj): Obj {
    let m: RegExpMatchArray | null;
    if (method === 'POST' && path === '/v1/checkout/sessions') return this.createSession(body);
    if (method === 'POST' && path === '/v1/accounts') return this.createAccount(body);
    if (method === 'GET' && (m = path.match(/^\/v1\/accounts\/([^/]+)$/))) return this.get(this.accounts, m[1], 'account');
    if (method === 'POST' && path === '/v1/account_links') {
      if (!this.accounts.has(body.account)) throw stripeError(400, 'invalid_request_error', `No such account: '${body.account}'`, 'resource_missing');
      return { object: 'account_link', created: now(), expires_at: now() + 300, url: `${this.apiBase}/onboarding/${body.account}` };
    }
    if (method === 'POST' && path === '/v1/transfers') return this.createTransfer(body);
    if (method === 'GET' && path === '/v1/transfers') {
      let list = [...this.transfers.values()];
      if (query.transfer_group) list = list.filter((t) => t.transfer_group === query.transfer_group);
      if (query.destination) list = list.filter((t) => t.destination === query.destination);
      // Newest first, as Stripe lists; insertion order breaks ties within a second.
      list.reverse();
      if (query.starting_after) list = list.slice(list.findIndex((t) => t.id === query.starting_after) + 1);
      const limit = Number(query.limit ?? 10);
      return { object: 'list', url: '/v1/transfers', has_more: list.length > limit, data: list.slice(0, limit) };
    }
    if (method === 'GET' && (m = path.match(/^\/v1\/transfers\/([^/]+)$/))) return this.get(this.transfers, m[1], 'transfer');
    if (method === 'POST' && (m = path.match(/^\/v1\/transfers\/([^/]+)\/reversals$/))) {
      const ev = this.reverseTransfer(m[1], body.amount ? Number(body.amount) : undefined);
      return ev.data.object.reversals.data.at(-1);
    }
    throw stripeError(404, 'invalid_request_error', `Unrecognized request URL (${method}: ${path})`);
  }

  private get(map: Map<string, Obj>, key: string, what: string): Obj {
    const o = map.get(key);
    if (!o) throw stripeError(404, 'invalid_request_error', `No such ${what}: '${key}'`, 'resource_missing');
    return o;
  }

  private createSession(body: Obj): Obj {
    const item = body.line_items?.[0];
    const amount = Number(item?.price_data?.unit_amount) * Number(item?.quantity ?? 1);
    const currency = item?.price_data?.currency;
    if (!Number.isSafeInteger(amount) || amount <= 0) throw stripeError(400, 'invalid_request_error', 'Invalid integer: line_items[0][price_data][unit_amount]');
    if (body.mode !== 'payment') throw stripeError(400, 'invalid_request_error', 'mode must be payment here');
    const s = {
      id: id('cs_test'),
      object: 'checkout.session',
      mode: 'payment',
      amount_total: amount,
      currency,
      metadata: body.metadata ?? {},
      payment_intent_metadata: body.payment_intent_data?.metadata ?? {},
      client_reference_id: body.client_reference_id ?? null,
      payment_intent: null,
      payment_status: 'unpaid',
      status: 'open',
      success_url: body.success_url,
      cancel_url: body.cancel_url,
      url: `${this.apiBase}/pay/${randomBytes(6).toString('hex')}`,
      created: now(),
    };
    this.sessions.set(s.id, s);
    return s;
  }

  private createAccount(body: Obj): Obj {
    const a = {
      id: id('acct'),
      object: 'account',
      type: body.type ?? 'express',
      email: body.email ?? null,
      metadata: body.metadata ?? {},
      charges_enabled: false,
      payouts_enabled: false,
      details_submitted: false,
      capabilities: { transfers: 'inactive' },
      created: now(),
    };
    this.accounts.set(a.id, a);
    return a;
  }

  private createTransfer(body: Obj): Obj {
    const amount = Number(body.amount);
    if (!Number.isSafeInteger(amount) || amount <= 0) throw stripeError(400, 'invalid_request_error', 'Invalid positive integer', 'parameter_invalid_integer');
    if (!this.accounts.has(body.destination)) throw stripeError(400, 'invalid_request_error', `No such destination: '${body.destination}'`, 'resource_missing');
    if (this.refuseTransfersTo.has(body.destination)) {
      throw stripeError(400, 'invalid_request_error', 'Your destination account needs to have at least one of the following capabilities enabled: transfers', 'insufficient_capabilities_for_transfer');
    }
    const t = {
      id: id('tr'),
      object: 'transfer',
      amount,
      amount_reversed: 0,
      currency: body.currency,
      destination: body.destination,
      transfer_group: body.transfer_group ?? null,
      metadata: body.metadata ?? {},
      reversed: false,
      reversals: { object: 'list', data: [] as Obj[], has_more: false },
      created: now(),
    };
    this.transfers.set(t.id, t);
    return t;
  }
}

function stripeError(status: number, type: string, message: string, code?: string) {
  return Object.assign(new Error(message), { status, type, code });
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') return `{${Object.keys(v).sort().map((k) => `${k}:${canonical((v as Obj)[k])}`).join(',')}}`;
  return JSON.stringify(v);
}

/** Starts a fake Stripe on a free port. */
export async function startFakeStripe(): Promise<FakeStripe> {
  return new FakeStripe().start();
}
