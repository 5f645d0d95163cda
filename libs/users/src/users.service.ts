import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from '@tally/audit';
import { clampPage, conflict, notFound, Page } from '@tally/common';
import { isUniqueViolation } from '@tally/database';
import { Role, UserEntity } from './entities/user.entity';

export interface NewUser {
  email: string;
  displayName: string;
  passwordHash: string;
  roles: Role[];
}

export interface UserSearch {
  q?: string;
  role?: Role;
  blocked?: boolean;
  limit?: number;
  offset?: number;
}

@Injectable()
export class UsersService {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly audit: AuditService,
  ) {}

  private get repo() {
    return this.ds.getRepository(UserEntity);
  }

  async create(input: NewUser, em: EntityManager = this.ds.manager): Promise<UserEntity> {
    try {
      const user = em.create(UserEntity, { ...input, email: normalizeEmail(input.email), blockedAt: null, blockedReason: null });
      return await em.save(user);
    } catch (err) {
      if (isUniqueViolation(err, 'uq_users_email')) {
        throw conflict('EMAIL_TAKEN', 'email: an account with this email already exists', {
          fields: [{ field: 'email', problem: 'already registered' }],
        });
      }
      throw err;
    }
  }

  findByEmail(email: string): Promise<UserEntity | null> {
    return this.repo.findOne({ where: { email: normalizeEmail(email) } });
  }

  async get(id: string): Promise<UserEntity> {
    const user = id ? await this.repo.findOne({ where: { id } }) : null;
    if (!user) throw notFound('USER_NOT_FOUND', 'User not found');
    return user;
  }

  async search(s: UserSearch): Promise<Page<UserEntity>> {
    const { limit, offset } = clampPage(s.limit, s.offset);
    const qb = this.repo.createQueryBuilder('u');
    if (s.q) qb.andWhere('(u.email ILIKE :q OR u.display_name ILIKE :q)', { q: `%${escapeLike(s.q)}%` });
    if (s.role) qb.andWhere(':role = ANY(u.roles)', { role: s.role });
    if (s.blocked !== undefined) qb.andWhere(s.blocked ? 'u.blocked_at IS NOT NULL' : 'u.blocked_at IS NULL');
    const [items, total] = await qb.orderBy('u.created_at', 'DESC').addOrderBy('u.id').take(limit).skip(offset).getManyAndCount();
    return { items, total, limit, offset };
  }

  /** Blocks a user from claiming work; the reason is kept on the user and in the audit log. */
  async block(adminId: string, userId: string, reason: string): Promise<UserEntity> {
    return this.ds.transaction(async (em) => {
      const res = await em
        .createQueryBuilder()
        .update(UserEntity)
        .set({ blockedAt: () => 'now()', blockedReason: reason })
        .where('id = :userId', { userId })
        .returning('*')
        .execute();
      if (!res.affected) throw notFound('USER_NOT_FOUND', 'User not found');
      await this.audit.record({ actorId: adminId, action: 'user.blocked', objectType: 'user', objectId: userId, reason }, em);
      return em.findOneOrFail(UserEntity, { where: { id: userId } });
    });
  }

  async unblock(adminId: string, userId: string, reason?: string): Promise<UserEntity> {
    return this.ds.transaction(async (em) => {
      const res = await em.update(UserEntity, { id: userId }, { blockedAt: null, blockedReason: null });
      if (!res.affected) throw notFound('USER_NOT_FOUND', 'User not found');
      await this.audit.record({ actorId: adminId, action: 'user.unblocked', objectType: 'user', objectId: userId, reason }, em);
      return em.findOneOrFail(UserEntity, { where: { id: userId } });
    });
  }
}

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}
