import type { UserRole } from '@agentbox/schemas';

/** Claims carried in the access token. */
export interface AccessTokenClaims {
  sub: string;
  username: string;
  role: UserRole;
  /** The user's session version when issued; a password reset or change raises it, ending the token. */
  ver: number;
}

/** Claims of a live-stream ticket; `typ` tells it from an access token, which has none. */
export interface StreamTicketClaims {
  sub: string;
  typ: 'stream';
  /** The session version of the access token that asked for it: a password reset ends the stream too. */
  ver?: number;
}
