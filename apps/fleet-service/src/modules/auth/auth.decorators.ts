import { SetMetadata, applyDecorators, createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { type UserRole } from '@agentbox/schemas';
import { ApiErrors } from '../../common/openapi/zod-openapi.js';

export const IS_PUBLIC = 'agentbox:public';
export const REQUIRED_ROLE = 'agentbox:role';
export const STREAM_TICKET = 'agentbox:stream-ticket';
export const PEOPLE_ONLY = 'agentbox:people-only';

/** The route needs no bearer token. */
export const Public = () => SetMetadata(IS_PUBLIC, true);

/** The route needs at least the least powerful of `roles` (viewer < operator < admin); documents its 403. */
export const Roles = (...roles: [UserRole, ...UserRole[]]) =>
  applyDecorators(SetMetadata(REQUIRED_ROLE, roles), ApiErrors(403));

/**
 * The route manages users or API keys: a signed-in person only, never an API key, whatever its role
 * (403 `API_KEY_NOT_ALLOWED`). A key that could create a user could have that user create a key, so
 * "revoking a leaked key is enough" (docs/operations.md, "API keys") holds only if keys manage neither.
 */
export const PeopleOnly = () => SetMetadata(PEOPLE_ONLY, true);

/**
 * EventSource cannot set headers, so this route also accepts a stream ticket as `?ticket=`
 * (`POST /api/v1/auth/stream-ticket`, valid 60 s), never a login token or API key: URLs end up in logs.
 */
export const AcceptStreamTicket = () => SetMetadata(STREAM_TICKET, true);

/** Who made the request, as the auth guard verified it. */
export interface AuthUser {
  id: string;
  /** The user's name; for an API key its public part, `abk_<id>`. */
  username: string;
  role: UserRole;
  /** Set when the request authenticated with an API key rather than a user's session. */
  apiKey?: { id: string; name: string };
  /** The session version of a user's access token (a password change or reset bumps it). */
  sessionVersion?: number;
}

export const CurrentUser = createParamDecorator((_: unknown, ctx: ExecutionContext): AuthUser => {
  const request = ctx.switchToHttp().getRequest<{ user?: AuthUser }>();
  if (!request.user) throw new Error('CurrentUser used on a public route');
  return request.user;
});
