import type { RollbackReason } from '@agentbox/schemas';

export type { RollbackReason };

export type Slot = 'a' | 'b';

export interface PendingBoot {
  slot: Slot;
  version: string;
  rolloutId?: string | null;
  /** Boot attempts started so far; the launcher persists the increment before it starts the slot. */
  attempts: number;
  maxAttempts: number;
  /** Seconds each attempt has to commit before the launcher stops it. */
  deadlineSec: number;
  /** Epoch ms when the slot was marked pending. */
  since: number;
  /** Why the previous attempt failed (launcher bookkeeping). */
  lastFailure?: { reason: RollbackReason; detail: string; at: number } | null;
  [extra: string]: unknown;
}

export interface LastUpdateResult {
  result: 'committed' | 'rolled-back';
  slot: Slot;
  version: string;
  rolloutId?: string | null;
  reason?: RollbackReason;
  detail?: string;
  attempts?: number;
  /** Epoch ms of the commit or rollback. */
  at: number;
  /** Epoch ms when the device agent reported this result (markLastReported). */
  reportedAt?: number;
  [extra: string]: unknown;
}

export interface BootState {
  v: 1;
  active: Slot;
  pending: PendingBoot | null;
  last: LastUpdateResult | null;
  [extra: string]: unknown;
}

export interface SlotInfo {
  version: string;
  /** Epoch ms (an ISO string is accepted on read). */
  installedAt: number;
  [extra: string]: unknown;
}

export declare const BOOT_STATE_FILE: 'boot.json';
export declare const SLOT_FILE: 'slot.json';
export declare const SLOTS: readonly ['a', 'b'];
export declare const DEFAULT_MAX_ATTEMPTS: number;
export declare const DEFAULT_DEADLINE_SEC: number;
export declare const EXIT_RESTART: 75;
export declare const LAUNCHER_ROLLBACK_REASONS: Readonly<{
  crashed: 'crashed';
  timeout: 'timeout';
  watchdog: 'watchdog';
  unpackFailed: 'unpack-failed';
}>;

export declare class BootStateError extends Error {
  constructor(message: string);
}

export declare function bootStatePathOf(stateDir: string): string;
export declare function slotDirOf(bootStatePath: string, slot: Slot): string;
export declare function otherSlot(slot: Slot): Slot;
export declare function parseBootState(raw: unknown): BootState;
export declare function readBootState(bootStatePath: string): BootState | null;
export declare function writeFileAtomic(path: string, content: string): void;
export declare function writeBootState(bootStatePath: string, state: BootState): BootState;
export declare function removeStaleTempFiles(bootStatePath: string): void;
export declare function readSlotInfo(bootStatePath: string, slot: Slot): SlotInfo | null;
export declare function writeSlotInfo(slotDir: string, info: SlotInfo): void;
export declare function fallbackBootState(bootStatePath: string): BootState | null;
export declare function recoverBootState(
  bootStatePath: string,
  options?: { now?: number },
): { state: BootState | null; recovered: string | null };
export declare function setPendingSlot(
  bootStatePath: string,
  request: {
    slot: Slot;
    version: string;
    rolloutId?: string | null;
    maxAttempts?: number;
    deadlineSec?: number;
    now?: number;
  },
): BootState;
export declare function commitPendingSlot(
  bootStatePath: string,
  options?: { slot?: Slot; now?: number },
): BootState;
export declare function rolledBackState(
  state: BootState,
  why: { reason: RollbackReason; detail: string; at: number },
): BootState;
export declare function markLastReported(bootStatePath: string, options?: { now?: number }): BootState;
