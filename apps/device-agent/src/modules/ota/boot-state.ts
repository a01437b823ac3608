import { z } from 'zod';
import { SemverSchema, UPDATE_REASONS } from '@agentbox/schemas';
import { readJsonFile, writeFileAtomic } from '../../common/atomic-file.js';

/**
 * The launcher's boot state (`<stateDir>/boot.json`): which slot runs, which one is on trial, and how
 * the last trial ended. The launcher and the device agent both rewrite it, always atomically.
 */
export const SLOTS = ['a', 'b'] as const;
export type Slot = (typeof SLOTS)[number];

export const PendingBootSchema = z.looseObject({
  slot: z.enum(SLOTS),
  version: SemverSchema,
  rolloutId: z.string().max(64).nullish(),
  attempts: z.number().int().nonnegative(),
  maxAttempts: z.number().int().positive(),
  deadlineSec: z.number().int().positive(),
  since: z.number().int().nonnegative(),
});
export type PendingBoot = z.infer<typeof PendingBootSchema>;

export const LastBootSchema = z.looseObject({
  result: z.enum(['committed', 'rolled-back']),
  slot: z.enum(SLOTS),
  version: z.string(),
  rolloutId: z.string().max(64).nullish(),
  reason: z.enum(UPDATE_REASONS).optional(),
  detail: z.string().optional(),
  at: z.number().int().nonnegative(),
  /** Set once the device agent has queued the report of this result. */
  reportedAt: z.number().int().nonnegative().optional(),
});
export type LastBoot = z.infer<typeof LastBootSchema>;

export const BootStateSchema = z.looseObject({
  v: z.literal(1),
  active: z.enum(SLOTS),
  pending: PendingBootSchema.nullable(),
  last: LastBootSchema.nullable(),
});
export type BootState = z.infer<typeof BootStateSchema>;

export function otherSlot(slot: Slot): Slot {
  return slot === 'a' ? 'b' : 'a';
}

/** Throws when boot.json is missing or unreadable: a box under the launcher always has one. */
export async function readBootState(path: string): Promise<BootState> {
  const raw = await readJsonFile(path);
  if (raw === undefined) throw new Error(`boot state ${path} does not exist`);
  return BootStateSchema.parse(raw);
}

export async function writeBootState(path: string, state: BootState): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(state, null, 2)}\n`, 0o644);
}

/** Marks `slot` as the one to try on the next start; the launcher counts the attempts. */
export async function markPending(
  path: string,
  pending: Pick<PendingBoot, 'slot' | 'version' | 'rolloutId' | 'maxAttempts' | 'deadlineSec' | 'since'>,
): Promise<BootState> {
  const state = await readBootState(path);
  if (pending.slot === state.active) throw new Error(`slot ${pending.slot} is the active slot`);
  const next: BootState = { ...state, pending: { ...pending, attempts: 0 } };
  await writeBootState(path, next);
  return next;
}

/** The new version proved healthy: it becomes the active slot for good. */
export async function commitPending(path: string, now: number): Promise<BootState> {
  const state = await readBootState(path);
  const pending = state.pending;
  if (!pending) return state;
  const next: BootState = {
    ...state,
    active: pending.slot,
    pending: null,
    last: {
      result: 'committed',
      slot: pending.slot,
      version: pending.version,
      rolloutId: pending.rolloutId ?? null,
      at: now,
    },
  };
  await writeBootState(path, next);
  return next;
}

/** The last result has been reported: not reported again on the next start. */
export async function markLastReported(path: string, now: number): Promise<void> {
  const state = await readBootState(path);
  if (!state.last) return;
  await writeBootState(path, { ...state, last: { ...state.last, reportedAt: now } });
}
