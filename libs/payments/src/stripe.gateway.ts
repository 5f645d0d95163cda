import { Inject, Injectable } from '@nestjs/common';
import Stripe from 'stripe';
import { TALLY_CONFIG, TallyConfig } from '@tally/config';
import { PaymentsErrors } from './payments.errors';

/** Stripe refuses signatures older than this many seconds (its default too): replays of old deliveries fail. */
export const WEBHOOK_TOLERANCE_SECONDS = 300;

export type StripeClient = InstanceType<typeof Stripe>;
export type StripeEvent = ReturnType<StripeClient['webhooks']['constructEvent']>;

/**
 * The one place that holds the Stripe SDK. STRIPE_API_BASE points it elsewhere (tests: the local
 * fake Stripe). Without STRIPE_SECRET_KEY, `client` throws STRIPE_NOT_CONFIGURED (a 409), so the
 * embedded default works with manual credits only.
 */
@Injectable()
export class StripeGateway {
  private cached?: StripeClient;

  constructor(@Inject(TALLY_CONFIG) private readonly config: TallyConfig) {}

  get configured(): boolean {
    return !!this.config.stripeSecretKey;
  }

  get client(): StripeClient {
    if (!this.config.stripeSecretKey) throw PaymentsErrors.notConfigured();
    if (!this.cached) {
      const base = this.config.stripeApiBase ? new URL(this.config.stripeApiBase) : undefined;
      this.cached = new Stripe(this.config.stripeSecretKey, {
        ...(base ? { host: base.hostname, port: base.port || (base.protocol === 'http:' ? 80 : 443), protocol: base.protocol.replace(':', '') as 'http' | 'https' } : {}),
        // Retries reuse the request's idempotency key, so a retried POST is never applied twice.
        maxNetworkRetries: 2,
        timeout: this.config.stripeTimeoutMs,
        appInfo: { name: 'tally' },
      });
    }
    return this.cached;
  }

  /** Verifies the signature on the raw body (and the timestamp's age) and parses the event. */
  constructEvent(rawBody: Buffer, signature: string | undefined): StripeEvent {
    const secret = this.config.stripeWebhookSecret;
    if (!secret) throw PaymentsErrors.notConfigured();
    if (!signature) throw PaymentsErrors.badSignature('no Stripe-Signature header');
    // Verification needs no API key; a key-less client would be refused by the SDK, so use a placeholder.
    const verifier = this.cached ?? new Stripe(this.config.stripeSecretKey ?? 'sk_verify_only');
    try {
      return verifier.webhooks.constructEvent(rawBody, signature, secret, WEBHOOK_TOLERANCE_SECONDS);
    } catch (err) {
      throw PaymentsErrors.badSignature((err as Error).message?.split('\n')[0] ?? 'invalid');
    }
  }
}

/** Stripe said no (4xx other than rate limiting / idempotency): the request was not applied and a retry will not help. */
export function isDefinitiveStripeRefusal(err: unknown): boolean {
  const e = err as { type?: string; statusCode?: number; rawType?: string };
  if (!e || typeof e.statusCode !== 'number') return false;
  // 401/403: our key is wrong, not the payout: keep it pending until the configuration is fixed.
  if (e.statusCode === 429 || e.statusCode === 401 || e.statusCode === 403 || e.statusCode >= 500) return false;
  if (e.type === 'StripeIdempotencyError' || e.rawType === 'idempotency_error') return false;
  return e.statusCode >= 400 && e.statusCode < 500;
}
