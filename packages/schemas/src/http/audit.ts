import { z } from 'zod';

/**
 * Targets the service names itself; a request to any other route is audited under the resource its path
 * names (`claim-token`, `provider`...), so this list is not closed.
 */
export const AUDIT_TARGET_TYPES = [
  'release',
  'ota-root',
  'rollout',
  'device',
  'api-key',
  'user',
  'provider',
  'agent',
  'assignment',
  'claim-token',
] as const;
export type AuditTargetType = (typeof AUDIT_TARGET_TYPES)[number];

/** Who acted: a signed-in user, an API key, a claim token (a box enrolling), the service itself, or nobody known. */
export const AUDIT_ACTOR_TYPES = ['user', 'api-key', 'claim-token', 'system', 'anonymous'] as const;
export type AuditActorType = (typeof AUDIT_ACTOR_TYPES)[number];

/**
 * `denied`: refused for who asked (401, 403, 429: not signed in, role too low, throttled);
 * `failed`: refused for what was asked (validation, not found, conflict) or an error.
 */
export const AUDIT_OUTCOMES = ['success', 'denied', 'failed'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

export const AuditEntryDtoSchema = z.object({
  id: z.string(),
  at: z.iso.datetime(),
  /** The user's name, an API key's `abk_<id>`, a claim token's id, `system` or `anonymous`. */
  actor: z.string(),
  actorType: z.enum(AUDIT_ACTOR_TYPES),
  /** The user's, API key's or claim token's id; null for `system` and `anonymous`. */
  actorId: z.string().nullable(),
  action: z.string(),
  targetType: z.string(),
  targetId: z.string(),
  outcome: z.enum(AUDIT_OUTCOMES),
  /** False when the request was refused for who made it (outcome `denied`). */
  allowed: z.boolean(),
  /** The HTTP status of the request behind the entry; null for what the service did by itself. */
  status: z.number().int().nullable(),
  /** The error code of a refused request (`FORBIDDEN`, `VALIDATION_FAILED`...). */
  errorCode: z.string().nullable(),
  /** The client's address (the proxy's view when AGENTBOX_TRUST_PROXY is set); null without a request. */
  sourceAddress: z.string().nullable(),
  /** The particulars, secrets (passwords, keys, tokens) redacted. */
  detail: z.record(z.string(), z.unknown()),
});
export type AuditEntryDto = z.infer<typeof AuditEntryDtoSchema>;

/** Where the next page starts: the last entry's instant and id (entries are ordered by both). */
export interface AuditCursor {
  at: number;
  id: string;
}

/** The `X-Next-Cursor` header of an audit page. */
export function encodeAuditCursor(cursor: AuditCursor): string {
  return `${cursor.at}.${cursor.id}`;
}

/** The filters shared by the list and the CSV export. */
export const AuditFilterSchema = z.object({
  targetType: z.string().min(1).max(32).optional(),
  targetId: z.string().min(1).max(100).optional(),
  /** An exact action, or a prefix ending in `*` (`release.*`). */
  action: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9._-]*\*?$/, 'an action such as release.created, or a prefix such as release.*')
    .optional(),
  /** A user's name, `system`, or an API key's `abk_<id>`. */
  actor: z.string().min(1).max(100).optional(),
  /** Entries at or after this instant. */
  from: z.iso.datetime({ offset: true }).optional(),
  /** Entries before this instant. */
  to: z.iso.datetime({ offset: true }).optional(),
  outcome: z.enum(AUDIT_OUTCOMES).optional(),
  /** Only entries older than this instant (ms since the epoch); kept for older clients, see `cursor`. */
  before: z.coerce.number().int().positive().optional(),
});
export type AuditFilter = z.output<typeof AuditFilterSchema>;

export const AuditQuerySchema = AuditFilterSchema.extend({
  /** The `X-Next-Cursor` of the previous page. */
  cursor: z
    .string()
    .regex(/^\d{1,16}\.[0-9a-f-]{36}$/, 'not a cursor from X-Next-Cursor')
    .transform((value): AuditCursor => {
      const dot = value.indexOf('.');
      return { at: Number(value.slice(0, dot)), id: value.slice(dot + 1) };
    })
    .optional(),
  limit: z.coerce.number().int().min(1).max(1_000).default(100),
});
export type AuditQuery = z.output<typeof AuditQuerySchema>;
