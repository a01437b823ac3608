import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { type UserRole, roleAtLeast, USER_ROLES } from '@agentbox/schemas';
import { ApiKeyException } from '../api-keys/api-keys.exception.js';
import { IS_PUBLIC, PEOPLE_ONLY, REQUIRED_ROLE, STREAM_TICKET, type AuthUser } from './auth.decorators.js';
import { AuthException } from './auth.exception.js';
import { AuthService } from './auth.service.js';

/**
 * Global guard: a valid bearer token on every route not marked @Public(), the role @Roles() asks for, and
 * a person rather than an API key where @PeopleOnly() says so. Its refusals are audited with the rest of
 * the request's outcome (request-audit.ts): `request.user` is set before any role check, so a refusal
 * by role names who was refused.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly auth: AuthService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    const request = context.switchToHttp().getRequest<FastifyRequest & { user?: AuthUser }>();
    const user = await this.authenticate(
      request,
      this.reflector.getAllAndOverride<boolean>(STREAM_TICKET, targets) ?? false,
    );
    request.user = user;
    const required = this.reflector.getAllAndOverride<UserRole[]>(REQUIRED_ROLE, targets);
    const minimum =
      required && required.length > 0
        ? (USER_ROLES.find((role) => required.includes(role)) ?? 'admin')
        : null;
    const roleAllows = minimum === null || roleAtLeast(user.role, minimum);
    const keyRefused =
      user.apiKey !== undefined && (this.reflector.getAllAndOverride<boolean>(PEOPLE_ONLY, targets) ?? false);
    if (keyRefused) {
      throw new ApiKeyException(
        'API_KEY_NOT_ALLOWED',
        'API keys cannot manage users or API keys; sign in as an admin',
      );
    }
    if (!roleAllows) {
      const who = user.apiKey ? `; this API key has the ${user.role} role` : '';
      throw new AuthException('FORBIDDEN', `This action needs the ${minimum} role${who}`);
    }
    return true;
  }

  private authenticate(request: FastifyRequest, acceptTicket: boolean): Promise<AuthUser> {
    const header = request.headers.authorization;
    const bearer = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header)?.[1] : undefined;
    if (bearer) return this.auth.authenticate(bearer);
    if (acceptTicket) {
      const ticket = (request.query as Record<string, unknown> | undefined)?.ticket;
      if (typeof ticket === 'string' && ticket !== '') return this.auth.authenticateStreamTicket(ticket);
    }
    throw new AuthException('UNAUTHENTICATED', 'Missing bearer token');
  }
}
