import { Inject, Injectable } from '@nestjs/common';
import { createSecretKey } from 'node:crypto';
import { PassportStrategy } from '@nestjs/passport';
import { Strategy as JwtStrategyBase } from 'passport-jwt';
import { TALLY_CONFIG, TallyConfig } from '@tally/config';
import { bearerToken, VerifiedTokens } from './access-tokens';
import { AccessTokenClaims, Principal } from './principal';

/**
 * Access tokens: HS256 only, with our issuer and audience; anything else is refused. A token that
 * verified is handed to VerifiedTokens, so the guard need not run passport for it again.
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(JwtStrategyBase, 'jwt') {
  constructor(
    @Inject(TALLY_CONFIG) config: TallyConfig,
    private readonly tokens: VerifiedTokens,
  ) {
    super({
      jwtFromRequest: bearerToken,
      passReqToCallback: true,
      // A KeyObject, built once: given a string, jsonwebtoken runs crypto.createSecretKey on every
      // verification (about a tenth of the CPU of a claim under load).
      secretOrKey: createSecretKey(Buffer.from(config.jwtSecret, 'utf8')) as unknown as string, // typed as string, KeyObject is supported
      algorithms: ['HS256'],
      issuer: config.jwtIssuer,
      audience: config.jwtAudience,
      ignoreExpiration: false,
    });
  }

  validate(req: Parameters<typeof bearerToken>[0], claims: AccessTokenClaims & { exp?: number; nbf?: number }): Principal {
    const principal: Principal = { id: claims.sub, email: claims.email, roles: claims.roles };
    const token = bearerToken(req);
    if (token) this.tokens.remember(token, principal, claims);
    return principal;
  }
}
