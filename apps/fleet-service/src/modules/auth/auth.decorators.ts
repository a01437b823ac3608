import { SetMetadata, applyDecorators, createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { type UserRole } from '@agentbox/schemas';
import { ApiErrors } from '../../common/openapi/zod-openapi.js';

export const IS_PUBLIC = 'agentbox:public';
export const REQUIRED_ROLE = 'agentbox:role';
export const QUERY_TOKEN = 'agentbox:query-token';

/** The route needs no bearer token. */
export const Public = () => SetMetadata(IS_PUBLIC, true);

/** The route needs at least the least powerful of `roles` (viewer < operator < admin); documents its 403. */
export const Roles = (...roles: [UserRole, ...UserRole[]]) =>
  applyDecorators(SetMetadata(REQUIRED_ROLE, roles), ApiErrors(403));

/** EventSource cannot set headers, so this route also accepts the JWT as `?access_token=`. */
export const AcceptQueryToken = () => SetMetadata(QUERY_TOKEN, true);

/** Who made the request, as the auth guard verified it. */
export interface AuthUser {
  id: string;
  /** The user's name; for an API key its public part, `abk_<id>`. */
  username: string;
  role: UserRole;
  /** Set when the request authenticated with an API key rather than a user's session. */
  apiKey?: { id: string; name: string };
}

export const CurrentUser = createParamDecorator((_: unknown, ctx: ExecutionContext): AuthUser => {
  const request = ctx.switchToHttp().getRequest<{ user?: AuthUser }>();
  if (!request.user) throw new Error('CurrentUser used on a public route');
  return request.user;
});
