import { timingSafeEqual } from 'node:crypto';
import { randomBase32, sha256Hex } from '../../common/secrets.js';

export const API_KEY_PREFIX = 'abk_';
const ID_LENGTH = 12;
/** 40 base32 characters: 200 random bits. */
const SECRET_LENGTH = 40;
const FORMAT = new RegExp(`^${API_KEY_PREFIX}([a-z2-7]{${ID_LENGTH}})_([a-z2-7]{${SECRET_LENGTH}})$`);

export interface NewApiKeyToken {
  id: string;
  /** The whole key, `abk_<id>_<secret>`: handed out once, never stored. */
  token: string;
  hash: string;
}

export function generateApiKeyToken(): NewApiKeyToken {
  const id = randomBase32(ID_LENGTH);
  const token = `${API_KEY_PREFIX}${id}_${randomBase32(SECRET_LENGTH)}`;
  return { id, token, hash: hashApiKeyToken(token) };
}

/** A bearer token meant as an API key (as opposed to a JWT, which never starts like this). */
export function isApiKeyToken(token: string): boolean {
  return token.startsWith(API_KEY_PREFIX);
}

/** The key id of a well-formed key, else null. */
export function apiKeyIdOf(token: string): string | null {
  return FORMAT.exec(token)?.[1] ?? null;
}

/** What lists and the audit log show of a key: its public part. */
export function apiKeyPrefix(id: string): string {
  return `${API_KEY_PREFIX}${id}`;
}

export function hashApiKeyToken(token: string): string {
  return sha256Hex(token);
}

export function apiKeyHashMatches(storedHash: string, token: string): boolean {
  const expected = Buffer.from(storedHash, 'hex');
  const actual = Buffer.from(hashApiKeyToken(token), 'hex');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
