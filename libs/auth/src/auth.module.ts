import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { PassportModule } from '@nestjs/passport';
import { TypeOrmModule } from '@nestjs/typeorm';
import { TALLY_CONFIG, TallyConfig } from '@tally/config';
import { UsersModule } from '@tally/users';
import { AuthService } from './auth.service';
import { RefreshTokenEntity } from './entities/refresh-token.entity';
import { JwtAuthGuard, RolesGuard } from './guards';
import { VerifiedTokens } from './access-tokens';
import { JwtStrategy } from './strategies';

@Module({
  imports: [
    UsersModule,
    PassportModule,
    TypeOrmModule.forFeature([RefreshTokenEntity]),
    JwtModule.registerAsync({
      inject: [TALLY_CONFIG],
      useFactory: (c: TallyConfig) => ({
        secret: c.jwtSecret,
        signOptions: { algorithm: 'HS256', expiresIn: c.accessTokenTtlSeconds, issuer: c.jwtIssuer, audience: c.jwtAudience },
        verifyOptions: { algorithms: ['HS256'], issuer: c.jwtIssuer, audience: c.jwtAudience },
      }),
    }),
  ],
  providers: [
    AuthService,
    JwtStrategy,
    VerifiedTokens,
    { provide: APP_GUARD, useClass: JwtAuthGuard },
    { provide: APP_GUARD, useClass: RolesGuard },
  ],
  exports: [AuthService, UsersModule],
})
export class AuthModule {}
