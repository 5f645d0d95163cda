import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { DomainError } from '@tally/common';
import type { Role } from '@tally/users';
import { bearerToken, VerifiedTokens } from './access-tokens';
import { IS_PUBLIC, ROLES_KEY } from './decorators';
import type { Principal } from './principal';

/**
 * A route's metadata (handler, then class), looked up once per route instead of on every request:
 * decorators are applied at class definition, so it never changes while the app runs.
 */
class RouteMetadata<T> {
  private readonly byClass = new WeakMap<object, WeakMap<object, { v: T | undefined }>>();

  constructor(
    private readonly reflector: Reflector,
    private readonly key: string,
  ) {}

  get(ctx: ExecutionContext): T | undefined {
    const cls = ctx.getClass();
    const handler = ctx.getHandler();
    let perHandler = this.byClass.get(cls);
    if (!perHandler) this.byClass.set(cls, (perHandler = new WeakMap()));
    let hit = perHandler.get(handler);
    if (!hit) perHandler.set(handler, (hit = { v: this.reflector.getAllAndOverride<T>(this.key, [handler, cls]) }));
    return hit.v;
  }
}

/**
 * Global guard: every route needs a valid access token (Authorization: Bearer) unless marked
 * @Public(). passport-jwt (JwtStrategy) verifies a token the first time; after that the same
 * token is answered from VerifiedTokens until it expires.
 */
@Injectable()
export class JwtAuthGuard extends AuthGuard('jwt') {
  private readonly isPublic: RouteMetadata<boolean>;

  constructor(
    reflector: Reflector,
    private readonly tokens: VerifiedTokens,
  ) {
    super();
    this.isPublic = new RouteMetadata(reflector, IS_PUBLIC);
  }

  override canActivate(ctx: ExecutionContext) {
    if (this.isPublic.get(ctx)) return true;
    const req = ctx.switchToHttp().getRequest<Parameters<typeof bearerToken>[0] & { user?: Principal }>();
    const token = bearerToken(req);
    const known = token ? this.tokens.get(token) : undefined;
    if (!known) return super.canActivate(ctx);
    req.user = known;
    return true;
  }

  override handleRequest<T>(err: unknown, user: T): T {
    if (err || !user) throw new DomainError('UNAUTHENTICATED', 'unauthenticated', 'A valid access token is required (Authorization: Bearer ...)');
    return user;
  }
}

/** Global guard: routes with @Roles(...) need one of those roles. */
@Injectable()
export class RolesGuard implements CanActivate {
  private readonly roles: RouteMetadata<Role[]>;

  constructor(reflector: Reflector) {
    this.roles = new RouteMetadata(reflector, ROLES_KEY);
  }

  canActivate(ctx: ExecutionContext): boolean {
    const roles = this.roles.get(ctx);
    if (!roles?.length) return true;
    const user: Principal | undefined = ctx.switchToHttp().getRequest().user;
    if (user && roles.some((r) => user.roles.includes(r))) return true;
    throw new DomainError('FORBIDDEN_ROLE', 'forbidden', `This needs the role ${roles.join(' or ')}`);
  }
}
