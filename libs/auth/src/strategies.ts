import { Inject, Injectable } from '@nestjs/common';
import { createSecretKey } from 'node:crypto';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy as JwtStrategyBase } from 'passport-jwt';
import { TALLY_CONFIG, TallyConfig } from '@tally/config';
import { AccessTokenClaims, Principal } from './principal';

/** Access tokens: HS256 only, with our issuer and audience; anything else is refused. */
@Injectable()
export class JwtStrategy extends PassportStrategy(JwtStrategyBase, 'jwt') {
  constructor(@Inject(TALLY_CONFIG) config: TallyConfig) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      // A KeyObject, built once: given a string, jsonwebtoken runs crypto.createSecretKey on every
      // verification (about a tenth of the CPU of a claim under load).
      secretOrKey: createSecretKey(Buffer.from(config.jwtSecret, 'utf8')) as unknown as string, // typed as string, KeyObject is supported
      algorithms: ['HS256'],
      issuer: config.jwtIssuer,
      audience: config.jwtAudience,
      ignoreExpiration: false,
    });
  }

  validate(claims: AccessTokenClaims): Principal {
    return { id: claims.sub, email: claims.email, roles: claims.roles };
  }
}
