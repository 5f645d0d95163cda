import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { DomainError } from '@tally/common';
import type { Role } from '@tally/users';
import { IS_PUBLIC, ROLES_KEY } from './decorators';
import type { Principal } from './principal';

/** Global guard: every route needs a valid access token unless marked @Public(). */
@Injectable()
export class JwtAuthGuard extends AuthGuard('jwt') {
  constructor(private readonly reflector: Reflector) {
    super();
  }

  override canActivate(ctx: ExecutionContext) {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [ctx.getHandler(), ctx.getClass()]);
    return isPublic ? true : super.canActivate(ctx);
  }

  override handleRequest<T>(err: unknown, user: T): T {
    if (err || !user) throw new DomainError('UNAUTHENTICATED', 'unauthenticated', 'A valid access token is required (Authorization: Bearer ...)');
    return user;
  }
}

/** Global guard: routes with @Roles(...) need one of those roles. */
@Injectable()
export class RolesGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(ctx: ExecutionContext): boolean {
    const roles = this.reflector.getAllAndOverride<Role[] | undefined>(ROLES_KEY, [ctx.getHandler(), ctx.getClass()]);
    if (!roles?.length) return true;
    const user: Principal | undefined = ctx.switchToHttp().getRequest().user;
    if (user && roles.some((r) => user.roles.includes(r))) return true;
    throw new DomainError('FORBIDDEN_ROLE', 'forbidden', `This needs the role ${roles.join(' or ')}`);
  }
}
