import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { type UserRole, roleAtLeast, USER_ROLES } from '@agentbox/schemas';
import { isApiKeyToken } from '../api-keys/api-key-token.js';
import { ApiKeysService } from '../api-keys/api-keys.service.js';
import { IS_PUBLIC, QUERY_TOKEN, REQUIRED_ROLE, type AuthUser } from './auth.decorators.js';
import { AuthException } from './auth.exception.js';
import { AuthService } from './auth.service.js';

/** Requests that change nothing: an API key using them is not audited. */
const READ_ONLY_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Global guard: a valid bearer token on every route not marked @Public(), and the role @Roles() asks for. */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly auth: AuthService,
    private readonly apiKeys: ApiKeysService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    const request = context.switchToHttp().getRequest<FastifyRequest & { user?: AuthUser }>();
    const token = this.extractToken(
      request,
      this.reflector.getAllAndOverride<boolean>(QUERY_TOKEN, targets) ?? false,
    );
    if (!token) throw new AuthException('UNAUTHENTICATED', 'Missing bearer token');
    const user = await this.auth.authenticate(token);
    request.user = user;
    const required = this.reflector.getAllAndOverride<UserRole[]>(REQUIRED_ROLE, targets);
    const minimum =
      required && required.length > 0
        ? (USER_ROLES.find((role) => required.includes(role)) ?? 'admin')
        : null;
    const allowed = minimum === null || roleAtLeast(user.role, minimum);
    if (user.apiKey && !READ_ONLY_METHODS.has(request.method)) {
      await this.apiKeys.recordUse(user, request.method, request.url.split('?')[0] ?? '', allowed);
    }
    if (!allowed) {
      const who = user.apiKey ? `; this API key has the ${user.role} role` : '';
      throw new AuthException('FORBIDDEN', `This action needs the ${minimum} role${who}`);
    }
    return true;
  }

  private extractToken(request: FastifyRequest, allowQuery: boolean): string | undefined {
    const header = request.headers.authorization;
    if (typeof header === 'string') {
      const match = /^Bearer\s+(\S+)$/i.exec(header);
      if (match) return match[1];
    }
    if (allowQuery) {
      const value = (request.query as Record<string, unknown> | undefined)?.access_token;
      // API keys live long: they go in the header only, never in URLs that end up in logs and histories.
      if (typeof value === 'string' && value !== '' && !isApiKeyToken(value)) return value;
    }
    return undefined;
  }
}
