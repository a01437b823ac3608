import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository, type EntityManager } from 'typeorm';
import {
  type UserAccountDto,
  type UserCreateRequest,
  type UserListResponse,
  type UserPasswordResetResponse,
  type UserUpdateRequest,
} from '@agentbox/schemas';
import { hashSecret, randomSecret } from '../../common/secrets.js';
import type { AuthUser } from './auth.decorators.js';
import { AuthException } from './auth.exception.js';
import { User } from './user.entity.js';

/** Long enough to resist guessing, short enough to read out to the user it was reset for. */
const RESET_PASSWORD_BYTES = 12;

/** The users admins manage: accounts, roles, disabling, deletion, password resets. */
@Injectable()
export class UsersService {
  constructor(@InjectRepository(User) private readonly users: Repository<User>) {}

  async createUser(request: UserCreateRequest): Promise<UserAccountDto> {
    const taken = () => new AuthException('USERNAME_TAKEN', `User ${request.username} already exists`);
    if (await this.users.existsBy({ username: request.username })) throw taken();
    const now = new Date();
    const user: User = {
      id: randomUUID(),
      username: request.username,
      passwordHash: await hashSecret(request.password),
      role: request.role,
      disabledAt: null,
      sessionVersion: 0,
      createdAt: now,
      updatedAt: now,
    };
    try {
      await this.users.insert(user);
    } catch (error) {
      if (await this.users.existsBy({ username: request.username })) throw taken();
      throw error;
    }
    return toUserAccountDto(user);
  }

  async listUsers(): Promise<UserListResponse> {
    const rows = await this.users.find({ order: { username: 'ASC' } });
    return { items: rows.map(toUserAccountDto) };
  }

  /** Changes the role and/or disables or enables the user; never leaves the fleet without an enabled admin. */
  async updateUser(id: string, patch: UserUpdateRequest, actor: AuthUser): Promise<UserAccountDto> {
    return this.users.manager.transaction(async (manager) => {
      const user = await requireUser(manager, id);
      if (patch.disabled === true && user.id === actor.id) {
        throw new AuthException('SELF_CHANGE_REFUSED', 'You cannot disable yourself; ask another admin');
      }
      const next: User = {
        ...user,
        role: patch.role ?? user.role,
        disabledAt:
          patch.disabled === undefined
            ? user.disabledAt
            : patch.disabled
              ? (user.disabledAt ?? new Date())
              : null,
        updatedAt: new Date(),
      };
      if (isEnabledAdmin(user) && !isEnabledAdmin(next)) await assertAnotherAdmin(manager, user);
      await manager
        .getRepository(User)
        .update({ id }, { role: next.role, disabledAt: next.disabledAt, updatedAt: next.updatedAt });
      return toUserAccountDto(next);
    });
  }

  async deleteUser(id: string, actor: AuthUser): Promise<void> {
    await this.users.manager.transaction(async (manager) => {
      const user = await requireUser(manager, id);
      if (user.id === actor.id) {
        throw new AuthException('SELF_CHANGE_REFUSED', 'You cannot delete yourself; ask another admin');
      }
      if (isEnabledAdmin(user)) await assertAnotherAdmin(manager, user);
      await manager.getRepository(User).delete({ id });
    });
  }

  /** Sets a generated password, shown once, and ends the user's sessions: the old password may have leaked. */
  async resetPassword(id: string): Promise<UserPasswordResetResponse> {
    const user = await requireUser(this.users.manager, id);
    const password = randomSecret(RESET_PASSWORD_BYTES);
    await this.setPassword(user, password);
    return { password };
  }

  /** Stores the new password's hash and ends every session issued before it. */
  async setPassword(user: User, password: string): Promise<User> {
    const next: User = {
      ...user,
      passwordHash: await hashSecret(password),
      sessionVersion: user.sessionVersion + 1,
      updatedAt: new Date(),
    };
    await this.users.update(
      { id: user.id },
      { passwordHash: next.passwordHash, sessionVersion: next.sessionVersion, updatedAt: next.updatedAt },
    );
    return next;
  }
}

function isEnabledAdmin(user: Pick<User, 'role' | 'disabledAt'>): boolean {
  return user.role === 'admin' && user.disabledAt === null;
}

async function requireUser(manager: EntityManager, id: string): Promise<User> {
  const user = await manager.getRepository(User).findOneBy({ id });
  if (!user) throw new AuthException('USER_NOT_FOUND', `User ${id} not found`);
  return user;
}

async function assertAnotherAdmin(manager: EntityManager, user: User): Promise<void> {
  const query = manager
    .getRepository(User)
    .createQueryBuilder('u')
    .select('u.id', 'id')
    .where('u.role = :role', { role: 'admin' })
    .andWhere('u.disabledAt IS NULL');
  // PostgreSQL: the enabled admins stay locked until this transaction ends, so of two admins demoting
  // each other at once the second waits and then sees the first's change (SQLite has one writer anyway).
  if (manager.connection.options.type === 'postgres') query.setLock('pessimistic_write');
  const admins = await query.getRawMany<{ id: string }>();
  if (!admins.some((admin) => admin.id !== user.id)) {
    throw new AuthException(
      'LAST_ADMIN',
      `${user.username} is the last enabled admin; make another user admin first`,
    );
  }
}

export function toUserAccountDto(user: User): UserAccountDto {
  return {
    id: user.id,
    username: user.username,
    role: user.role,
    disabledAt: user.disabledAt?.toISOString() ?? null,
    createdAt: user.createdAt.toISOString(),
  };
}
