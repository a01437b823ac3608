import { z } from 'zod';

export const AUDIT_TARGET_TYPES = ['release', 'ota-root', 'rollout', 'device', 'api-key'] as const;
export type AuditTargetType = (typeof AUDIT_TARGET_TYPES)[number];

export const AuditEntryDtoSchema = z.object({
  id: z.string(),
  at: z.iso.datetime(),
  actor: z.string(),
  action: z.string(),
  targetType: z.string(),
  targetId: z.string(),
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
