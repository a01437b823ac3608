import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import {
  type LoginRequest,
  type LoginResponse,
  type PasswordChangeRequest,
  type StreamTicketResponse,
  type UserRole,
  type UserDto,
} from '@agentbox/schemas';
import { AppConfig } from '../../config/app-config.js';
import { isApiKeyToken } from '../api-keys/api-key-token.js';
import { ApiKeysService } from '../api-keys/api-keys.service.js';
import { ANONYMOUS_ACTOR, AuditService } from '../audit/audit.service.js';
import { hashSecret, randomSecret, verifySecret } from '../../common/secrets.js';
import type { AuthUser } from './auth.decorators.js';
import type { AccessTokenClaims, StreamTicketClaims } from './auth.dto.js';
import { AuthException } from './auth.exception.js';
import { LoginThrottle } from './login-throttle.js';
import { User } from './user.entity.js';
import { UsersService } from './users.service.js';

export const ACCESS_TOKEN_TTL_SEC = 12 * 3600;
/** Long enough to open the stream after asking for the ticket, short enough that a logged URL is useless. */
export const STREAM_TICKET_TTL_SEC = 60;

/** A hash of a random password, verified when the username is unknown so timing does not reveal which names exist. */
const DUMMY_HASH_PROMISE = hashSecret(randomSecret(16));

/** Why a login failed, as the audit log records it. */
type LoginFailure = 'throttled' | 'unknown-user' | 'wrong-password' | 'disabled';

@Injectable()
export class AuthService implements OnApplicationBootstrap {
  private readonly logger = new Logger(AuthService.name);
  private readonly throttle = new LoginThrottle();

  constructor(
    @InjectRepository(User) private readonly users: Repository<User>,
    private readonly jwt: JwtService,
    private readonly config: AppConfig,
    private readonly apiKeys: ApiKeysService,
    private readonly accounts: UsersService,
    private readonly audit: AuditService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.ensureFirstAdmin();
  }

  /** Creates `admin` when no user exists; a generated password is shown once on stdout, never logged. */
  async ensureFirstAdmin(): Promise<void> {
    if ((await this.users.count()) > 0) return;
    const generated = this.config.adminPassword === undefined;
    const password = this.config.adminPassword ?? randomSecret(15);
    try {
      await this.accounts.createUser({ username: 'admin', password, role: 'admin' });
    } catch (error) {
      // Another replica created it first.
      if (error instanceof AuthException && error.code === 'USERNAME_TAKEN') return;
      throw error;
    }
    this.logger.log('created the first admin user "admin"');
    if (generated) {
      const line = `Admin login: admin / ${password}`;
      const bar = '='.repeat(line.length + 4);
      process.stdout.write(
        `\n${bar}\n  ${line}\n  (shown once; set AGENTBOX_ADMIN_PASSWORD to choose it)\n${bar}\n\n`,
      );
    }
  }

  /**
   * Every outcome is audited (the request adds its address): a success under the user, a failure under
   * nobody, since the name was only claimed, with the name tried as the target. Never the password.
   */
  /**
   * Every outcome is audited (the request adds its address): a success under the user, a failure under
   * nobody, since the name was only claimed, with the name tried as the target. Never the password.
   */
  async login(request: LoginRequest, ip: string): Promise<LoginResponse> {
    let failure: LoginFailure = 'throttled';
    let user: User;
    try {
      user = await this.checkPassword(request.username, request.password, ip, (why) => {
        failure = why;
        return new AuthException('INVALID_CREDENTIALS', 'Wrong username or password');
      });
    } catch (error) {
      await this.auditLoginFailure(request.username, failure);
      throw error;
    }
    if (user.disabledAt) {
      await this.auditLoginFailure(request.username, 'disabled');
      throw new AuthException(
        'USER_DISABLED',
        `User ${user.username} is disabled; ask an admin to enable it`,
      );
    }
    await this.audit.record({
      actor: user.username,
      actorType: 'user',
      actorId: user.id,
      action: 'auth.login',
      targetType: 'user',
      targetId: user.username,
      detail: { role: user.role },
    });
    return this.issueAccessToken(user);
  }

  /**
   * Changes the signed-in user's password, given the current one, and ends their other sessions; the
   * response is a new session, so the caller stays signed in.
   */
  async changePassword(actor: AuthUser, request: PasswordChangeRequest, ip: string): Promise<LoginResponse> {
    const user = await this.checkPassword(
      actor.username,
      request.currentPassword,
      ip,
      () => new AuthException('CURRENT_PASSWORD_WRONG', 'The current password is wrong'),
    );
    return this.issueAccessToken(await this.accounts.setPassword(user, request.newPassword));
  }

  /** The user whose password this is; failures count towards the same throttle as logins. */
  private async checkPassword(
    username: string,
    password: string,
    ip: string,
    refusal: (failure: 'unknown-user' | 'wrong-password') => AuthException,
  ): Promise<User> {
    const retryAfter = this.throttle.retryAfter(username, ip);
    if (retryAfter > 0) {
      throw new AuthException('TOO_MANY_ATTEMPTS', `Too many failed logins; retry in ${retryAfter} s`);
    }
    const user = await this.users.findOneBy({ username });
    const ok = user
      ? await verifySecret(user.passwordHash, password)
      : (await verifySecret(await DUMMY_HASH_PROMISE, password)) && false;
    if (!user || !ok) {
      this.throttle.recordFailure(username, ip);
      throw refusal(user ? 'wrong-password' : 'unknown-user');
    }
    this.throttle.reset(username, ip);
    return user;
  }

  private async issueAccessToken(user: User): Promise<LoginResponse> {
    const claims: AccessTokenClaims = {
      sub: user.id,
      username: user.username,
      role: user.role,
      ver: user.sessionVersion,
    };
    const accessToken = await this.jwt.signAsync(claims, { expiresIn: ACCESS_TOKEN_TTL_SEC });
    return { accessToken, tokenType: 'Bearer', expiresIn: ACCESS_TOKEN_TTL_SEC, user: toUserDto(user) };
  }

  private async auditLoginFailure(username: string, reason: LoginFailure): Promise<void> {
    await this.audit.record({
      actor: ANONYMOUS_ACTOR,
      action: 'auth.login-failed',
      targetType: 'user',
      targetId: username,
      detail: { username, reason },
    });
  }

  /**
   * Verifies a bearer token: an API key (`abk_...`) or an access token, whose user must still exist, be
   * enabled and not have had their password reset or changed since (they lose access at once).
   */
  async authenticate(token: string): Promise<AuthUser> {
    if (isApiKeyToken(token)) return this.apiKeys.authenticate(token);
    const claims = await this.verify<AccessTokenClaims & { typ?: unknown }>(token);
    // A stream ticket is no access token: it opens the live stream only.
    if (claims.typ !== undefined) throw unauthenticated();
    // Tokens issued before session versions existed carry none: they belong to version 0.
    return this.signedInUser(claims.sub, typeof claims.ver === 'number' ? claims.ver : 0);
  }

  /** A ticket for `GET /api/v1/live?ticket=`, valid STREAM_TICKET_TTL_SEC, for the signed-in user. */
  async issueStreamTicket(user: AuthUser): Promise<StreamTicketResponse> {
    const claims: StreamTicketClaims = {
      sub: user.id,
      typ: 'stream',
      ...(user.sessionVersion !== undefined ? { ver: user.sessionVersion } : {}),
    };
    const ticket = await this.jwt.signAsync(claims, { expiresIn: STREAM_TICKET_TTL_SEC });
    return { ticket, expiresIn: STREAM_TICKET_TTL_SEC };
  }

  /** Verifies a stream ticket; its user must still exist, be enabled and not have had a password reset. */
  async authenticateStreamTicket(ticket: string): Promise<AuthUser> {
    const claims = await this.verify<Partial<StreamTicketClaims>>(ticket);
    if (claims.typ !== 'stream' || typeof claims.sub !== 'string') throw unauthenticated();
    return this.signedInUser(claims.sub, typeof claims.ver === 'number' ? claims.ver : undefined);
  }

  /**
   * Whether a caller authenticated earlier may still be served, for connections that outlive a request
   * (the live stream): the user still exists, is enabled and kept its session version; an API key is
   * neither revoked nor expired, and its creator is still enabled.
   */
  async stillAllowed(user: AuthUser): Promise<boolean> {
    try {
      if (user.apiKey) return await this.apiKeys.stillActive(user.apiKey.id);
      await this.signedInUser(user.id, user.sessionVersion);
      return true;
    } catch (error) {
      if (error instanceof AuthException) return false;
      throw error;
    }
  }

  private async verify<T extends object>(token: string): Promise<T & { exp: number }> {
    let claims: T & { exp?: unknown };
    try {
      claims = await this.jwt.verifyAsync<T & { exp?: unknown }>(token, { algorithms: ['HS256'] });
    } catch {
      throw unauthenticated();
    }
    // The library checks `exp` only when present: a token signed without one would never end.
    if (typeof claims.exp !== 'number') throw unauthenticated();
    return claims as T & { exp: number };
  }

  /** Deleted and disabled users lose access at once; `version` is checked for access tokens only. */
  private async signedInUser(id: string, version?: number): Promise<AuthUser> {
    const user = await this.users.findOneBy({ id });
    if (!user || user.disabledAt !== null) throw unauthenticated();
    if (version !== undefined && version !== user.sessionVersion) throw unauthenticated();
    return { id: user.id, username: user.username, role: user.role, sessionVersion: user.sessionVersion };
  }

  me(user: AuthUser): UserDto {
    return { username: user.username, role: user.role };
  }
}

function unauthenticated(): AuthException {
  return new AuthException('UNAUTHENTICATED', 'Invalid or expired access token');
}

function toUserDto(user: { username: string; role: UserRole }): UserDto {
  return { username: user.username, role: user.role };
}
