import { Injectable } from '@nestjs/common';
import { ExtractJwt } from 'passport-jwt';
import type { Principal } from './principal';

/** Verified tokens remembered (a worker sends the same token on every request until it expires). */
const CACHE_SIZE = 10_000;

/** The bearer token of an `Authorization: Bearer <token>` header, exactly as passport-jwt extracts it. */
export const bearerToken = ExtractJwt.fromAuthHeaderAsBearerToken();

/**
 * Access tokens that passport-jwt (JwtStrategy) has verified, remembered until they expire.
 *
 * Verifying a JWT (two base64 + JSON decodes, an HMAC, the claim checks, passport's per-request
 * plumbing) was a measurable share of a claim's CPU under load, and a client sends the same token
 * with every request. A token that verified is remembered keyed by its exact text (signature
 * included: any other string goes through passport in full), and on a repeat only the
 * time-dependent claim is checked again: `exp`, with jsonwebtoken's rule (expired once
 * now >= exp, in whole seconds). Tokens without `exp`, or with an `nbf` still ahead, are never
 * remembered; failures never are. Oldest entries are dropped beyond CACHE_SIZE.
 */
@Injectable()
export class VerifiedTokens {
  private readonly verified = new Map<string, { principal: Principal; exp: number }>();

  /** The caller of a token verified earlier and not expired now, else undefined. */
  get(token: string): Principal | undefined {
    const known = this.verified.get(token);
    if (!known) return undefined;
    if (Math.floor(Date.now() / 1000) < known.exp) return known.principal;
    this.verified.delete(token);
    return undefined;
  }

  /** Called by JwtStrategy after passport-jwt verified `token` (signature, algorithm, issuer, audience, exp). */
  remember(token: string, principal: Principal, claims: { exp?: number; nbf?: number }): void {
    const now = Math.floor(Date.now() / 1000);
    if (typeof claims.exp !== 'number' || (claims.nbf !== undefined && claims.nbf > now)) return;
    if (this.verified.size >= CACHE_SIZE) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(token, { principal, exp: claims.exp });
  }
}
