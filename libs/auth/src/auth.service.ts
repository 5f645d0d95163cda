import { Inject, Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { DataSource, IsNull } from 'typeorm';
import { DomainError } from '@tally/common';
import { TALLY_CONFIG, TallyConfig } from '@tally/config';
import { Role, UserEntity, UsersService } from '@tally/users';
import { RefreshTokenEntity } from './entities/refresh-token.entity';
import { dummyPasswordHash, hashPassword, verifyPassword } from './password';
import { AccessTokenClaims, Principal, TokenPair } from './principal';

export interface SignupInput {
  email: string;
  password: string;
  displayName: string;
  roles: Role[];
}

const invalidCredentials = () => new DomainError('INVALID_CREDENTIALS', 'unauthenticated', 'Email or password is wrong');
const invalidRefresh = () => new DomainError('INVALID_REFRESH_TOKEN', 'unauthenticated', 'refreshToken: unknown, expired or revoked');

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

@Injectable()
export class AuthService {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly users: UsersService,
    private readonly jwt: JwtService,
    @Inject(TALLY_CONFIG) private readonly config: TallyConfig,
  ) {}

  /** Self-service sign-up: requester and/or worker. Admins come from config or the CLI. */
  async signup(input: SignupInput): Promise<{ user: UserEntity; tokens: TokenPair }> {
    if (input.roles.includes('admin')) {
      throw new DomainError('ROLE_NOT_ALLOWED', 'forbidden', 'roles: admin cannot be chosen at sign-up');
    }
    const user = await this.users.create({
      email: input.email,
      displayName: input.displayName,
      passwordHash: await hashPassword(input.password),
      roles: [...new Set(input.roles)],
    });
    return { user, tokens: await this.issue(user, randomUUID()) };
  }

  /** Checks a password; the same work is done for an unknown email so timing tells nothing. */
  async validateCredentials(email: string, password: string): Promise<UserEntity> {
    const user = await this.users.findByEmail(email);
    const ok = await verifyPassword(user?.passwordHash ?? (await dummyPasswordHash()), password);
    if (!user || !ok) throw invalidCredentials();
    return user;
  }

  login(user: UserEntity): Promise<TokenPair> {
    return this.issue(user, randomUUID());
  }

  /**
   * Rotates a refresh token. The conditional update decides the winner when the same token is
   * presented twice at once; the loser (or any later reuse) revokes the whole family.
   */
  async refresh(refreshToken: string): Promise<TokenPair> {
    const hash = sha256(refreshToken);
    const row = await this.ds.getRepository(RefreshTokenEntity).findOne({ where: { tokenHash: hash } });
    if (!row) throw invalidRefresh();
    const claimed = await this.ds
      .createQueryBuilder()
      .update(RefreshTokenEntity)
      .set({ usedAt: () => 'now()' })
      .where('id = :id AND used_at IS NULL AND revoked_at IS NULL AND expires_at > now()', { id: row.id })
      .execute();
    if (!claimed.affected) {
      if (row.usedAt) await this.revokeFamily(row.familyId);
      throw invalidRefresh();
    }
    const user = await this.users.get(row.userId);
    return this.issue(user, row.familyId);
  }

  /** Ends a session: the token's whole family stops working. */
  async logout(refreshToken: string): Promise<void> {
    const row = await this.ds.getRepository(RefreshTokenEntity).findOne({ where: { tokenHash: sha256(refreshToken) } });
    if (row) await this.revokeFamily(row.familyId);
  }

  private async revokeFamily(familyId: string): Promise<void> {
    await this.ds.getRepository(RefreshTokenEntity).update({ familyId, revokedAt: IsNull() }, { revokedAt: new Date() });
  }

  private async issue(user: UserEntity, familyId: string): Promise<TokenPair> {
    const claims: AccessTokenClaims = { sub: user.id, email: user.email, roles: user.roles };
    const accessToken = await this.jwt.signAsync(claims);
    const refreshToken = `${randomBytes(32).toString('base64url')}`;
    await this.ds.getRepository(RefreshTokenEntity).insert({
      userId: user.id,
      familyId,
      tokenHash: sha256(refreshToken),
      expiresAt: new Date(Date.now() + this.config.refreshTokenTtlSeconds * 1000),
      usedAt: null,
      revokedAt: null,
    });
    return { accessToken, refreshToken, tokenType: 'Bearer', expiresIn: this.config.accessTokenTtlSeconds };
  }

  /** Creates an admin, or adds the admin role to an existing account (CLI and ADMIN_EMAIL). */
  async ensureAdmin(email: string, password: string, displayName = 'Administrator'): Promise<{ user: UserEntity; created: boolean }> {
    const existing = await this.users.findByEmail(email);
    if (existing) {
      if (!existing.roles.includes('admin')) {
        existing.roles = [...existing.roles, 'admin'];
        await this.ds.getRepository(UserEntity).update({ id: existing.id }, { roles: existing.roles });
      }
      return { user: existing, created: false };
    }
    const user = await this.users.create({ email, displayName, passwordHash: await hashPassword(password), roles: ['admin'] });
    return { user, created: true };
  }

  toPrincipal(claims: AccessTokenClaims): Principal {
    return { id: claims.sub, email: claims.email, roles: claims.roles };
  }
}
