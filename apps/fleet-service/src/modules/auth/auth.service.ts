import { randomUUID } from 'node:crypto';
import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import {
  type LoginRequest,
  type LoginResponse,
  type UserRole,
  type UserCreateRequest,
  type UserDto,
} from '@agentbox/schemas';
import { AppConfig } from '../../config/app-config.js';
import { isApiKeyToken } from '../api-keys/api-key-token.js';
import { ApiKeysService } from '../api-keys/api-keys.service.js';
import { hashSecret, randomSecret, verifySecret } from '../../common/secrets.js';
import type { AuthUser } from './auth.decorators.js';
import type { AccessTokenClaims } from './auth.dto.js';
import { AuthException } from './auth.exception.js';
import { LoginThrottle } from './login-throttle.js';
import { User } from './user.entity.js';

export const ACCESS_TOKEN_TTL_SEC = 12 * 3600;

/** A hash of a random password, verified when the username is unknown so timing does not reveal which names exist. */
const DUMMY_HASH_PROMISE = hashSecret(randomSecret(16));

@Injectable()
export class AuthService implements OnApplicationBootstrap {
  private readonly logger = new Logger(AuthService.name);
  private readonly throttle = new LoginThrottle();

  constructor(
    @InjectRepository(User) private readonly users: Repository<User>,
    private readonly jwt: JwtService,
    private readonly config: AppConfig,
    private readonly apiKeys: ApiKeysService,
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
      await this.createUser({ username: 'admin', password, role: 'admin' });
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

  async login(request: LoginRequest, ip: string): Promise<LoginResponse> {
    const retryAfter = this.throttle.retryAfter(request.username, ip);
    if (retryAfter > 0) {
      throw new AuthException('TOO_MANY_ATTEMPTS', `Too many failed logins; retry in ${retryAfter} s`);
    }
    const user = await this.users.findOneBy({ username: request.username });
    const ok = user
      ? await verifySecret(user.passwordHash, request.password)
      : (await verifySecret(await DUMMY_HASH_PROMISE, request.password)) && false;
    if (!user || !ok) {
      this.throttle.recordFailure(request.username, ip);
      throw new AuthException('INVALID_CREDENTIALS', 'Wrong username or password');
    }
    this.throttle.reset(request.username, ip);
    const claims: AccessTokenClaims = { sub: user.id, username: user.username, role: user.role };
    const accessToken = await this.jwt.signAsync(claims, { expiresIn: ACCESS_TOKEN_TTL_SEC });
    return { accessToken, tokenType: 'Bearer', expiresIn: ACCESS_TOKEN_TTL_SEC, user: toUserDto(user) };
  }

  /**
   * Verifies a bearer token: an API key (`abk_...`) or an access token, whose user must still exist
   * (deleted users lose access at once).
   */
  async authenticate(token: string): Promise<AuthUser> {
    if (isApiKeyToken(token)) return this.apiKeys.authenticate(token);
    let claims: AccessTokenClaims;
    try {
      claims = await this.jwt.verifyAsync<AccessTokenClaims>(token, { algorithms: ['HS256'] });
    } catch {
      throw new AuthException('UNAUTHENTICATED', 'Invalid or expired access token');
    }
    const user = await this.users.findOneBy({ id: claims.sub });
    if (!user) throw new AuthException('UNAUTHENTICATED', 'Invalid or expired access token');
    return { id: user.id, username: user.username, role: user.role };
  }

  me(user: AuthUser): UserDto {
    return { username: user.username, role: user.role };
  }

  async createUser(request: UserCreateRequest): Promise<UserDto> {
    if (await this.users.existsBy({ username: request.username })) {
      throw new AuthException('USERNAME_TAKEN', `User ${request.username} already exists`);
    }
    const now = new Date();
    const user: User = {
      id: randomUUID(),
      username: request.username,
      passwordHash: await hashSecret(request.password),
      role: request.role,
      createdAt: now,
      updatedAt: now,
    };
    try {
      await this.users.insert(user);
    } catch (error) {
      if (await this.users.existsBy({ username: request.username })) {
        throw new AuthException('USERNAME_TAKEN', `User ${request.username} already exists`);
      }
      throw error;
    }
    return toUserDto(user);
  }

  async listUsers(): Promise<{ items: UserDto[] }> {
    const rows = await this.users.find({ order: { username: 'ASC' } });
    return { items: rows.map(toUserDto) };
  }
}

function toUserDto(user: { username: string; role: UserRole }): UserDto {
  return { username: user.username, role: user.role };
}
