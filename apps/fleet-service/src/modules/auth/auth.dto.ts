import type { UserRole } from '@agentbox/schemas';

/** Claims carried in the access token. */
export interface AccessTokenClaims {
  sub: string;
  username: string;
  role: UserRole;
}
