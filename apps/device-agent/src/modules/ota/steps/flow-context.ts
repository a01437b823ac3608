import { join } from 'node:path';
import { rm, stat } from 'node:fs/promises';
import type { UpdateOffer, UpdateStatus, UpdateStatusReport } from '@agentbox/schemas';
import { readBootState, type BootState, type Slot } from '@agentbox/launcher/boot-state';
import type { OtaTrust, UpdateReason } from '../ota-trust.js';
import { OtaStateStore, type OtaFlowState } from '../ota-state.js';
import type { UpdateFlowCheckpoints, FlowCheckpoint } from '../flow-checkpoints.js';

/** An unpacked bundle (node_modules included) is several times its compressed size. */
export const UNPACK_FACTOR = 4;
/** At most one `downloading` report per this many ms. */
export const PROGRESS_REPORT_MS = 2_000;

export interface FlowLogger {
  log(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

export interface UpdateFlowOptions {
  stateDir: string;
  /** boot.json of the launcher; undefined when the device agent does not run under it (no slots: no updates). */
  bootStatePath: string | undefined;
  /** AGENTBOX_SLOT: the slot this process runs from. */
  runningSlot: Slot | undefined;
  currentVersion: string;
  arch: string;
  /** Free space kept beyond what the update needs. */
  diskReserveBytes: number;
  trust: OtaTrust;
  /** Queues a report on `up/update` (durably: through the spool). */
  report: (report: UpdateStatusReport) => Promise<void>;
  /** Agent runs in progress (a restart waits for them unless the rollout forces it). */
  runsInProgress: () => number;
  /** Stops the box with exit code 75 so the launcher starts the pending slot. */
  restart: () => void;
  logger: FlowLogger;
  statfs?: (path: string) => Promise<{ bavail: number; bsize: number }>;
  fetch?: typeof fetch;
  now?: () => number;
  /** Local time of day in minutes (maintenance windows are in box local time). */
  minuteOfDay?: () => number;
  pollMs?: number;
  progressIntervalMs?: number;
  downloadRetryDelayMs?: (attempt: number) => number;
  /** Told at each checkpoint of the flow (flow-checkpoints.ts); by default the flow goes straight on. */
  checkpoints?: UpdateFlowCheckpoints;
}

/** A step's verdict that ends the flow with this status (rather than an unexpected failure). */
export class Stop extends Error {
  constructor(
    readonly status: UpdateStatus,
    readonly reason: UpdateReason | undefined,
    readonly detail: string,
  ) {
    super(detail);
  }
}

export function offerKey(offer: Pick<UpdateOffer, 'rolloutId'> & { version: string }): string {
  return `${offer.rolloutId}@${offer.version}`;
}

/** "HH:MM" -> minutes; a window may wrap midnight (22:00-04:00). */
export function inWindow(window: { start: string; end: string } | undefined, minute: number): boolean {
  if (!window) return true;
  const toMin = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
  const start = toMin(window.start);
  const end = toMin(window.end);
  if (start === end) return true;
  return start < end ? minute >= start && minute < end : minute >= start || minute < end;
}

/** A box under the launcher always has a boot.json: its absence is an error, not an empty state. */
export function bootStateAt(path: string): BootState {
  const state = readBootState(path);
  if (!state) throw new Error(`boot state ${path} does not exist`);
  return state;
}

export async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/**
 * What every step of the flow shares: the options, where the flow keeps its files, the clocks, and
 * how a step reports, persists and ends the flow.
 */
export class FlowContext {
  readonly store: OtaStateStore;
  readonly now: () => number;

  constructor(readonly options: UpdateFlowOptions) {
    this.store = new OtaStateStore(options.stateDir);
    this.now = options.now ?? Date.now;
  }

  get logger(): FlowLogger {
    return this.options.logger;
  }

  /** The pinned root of trust. */
  get rootPath(): string {
    return join(this.store.dir, 'root.json');
  }

  get downloadDir(): string {
    return join(this.store.dir, 'download');
  }

  get pollMs(): number | undefined {
    return this.options.pollMs;
  }

  /** Box local time of day in minutes (maintenance windows are in local time). */
  minuteOfDay(): number {
    if (this.options.minuteOfDay) return this.options.minuteOfDay();
    const date = new Date(this.now());
    return date.getHours() * 60 + date.getMinutes();
  }

  /** The flow reached `point`: its owner may hold it there (see flow-checkpoints.ts). */
  async checkpoint(point: FlowCheckpoint, signal?: AbortSignal): Promise<void> {
    await this.options.checkpoints?.reached(point, signal);
  }

  /** Persists the flow one step further (or with more of its state). */
  async save(state: OtaFlowState, patch: Partial<OtaFlowState>): Promise<OtaFlowState> {
    const next = { ...state, ...patch, updatedAt: this.now() };
    await this.store.save(next);
    return next;
  }

  async report(
    state: OtaFlowState,
    status: UpdateStatus,
    reason?: UpdateReason,
    detail?: string,
    progress?: { bytes: number; total: number },
  ): Promise<void> {
    await this.options.report({
      rolloutId: state.rolloutId,
      version: state.version,
      status,
      ...(reason ? { reason } : {}),
      ...(detail ? { detail: detail.slice(0, 2_000) } : {}),
      ...(progress ? { progress } : {}),
      runningVersion: this.options.currentVersion,
      ts: this.now(),
    });
  }

  /** Ends the flow: reports the outcome, persists it, and removes what it no longer needs. */
  async finish(
    state: OtaFlowState,
    status: UpdateStatus,
    reason: UpdateReason | undefined,
    detail: string,
  ): Promise<void> {
    // Reported first: a kill between the two reports again, and the cloud keys reports by status.
    await this.report(state, status, reason, detail);
    await this.save(state, {
      step: 'final',
      final: { status, ...(reason ? { reason } : {}), detail: detail.slice(0, 2_000) },
    });
    if (status !== 'healthy' && state.step !== 'trial') {
      const staging = state.slot ? join(this.options.stateDir, 'slots', `.${state.slot}.staging`) : undefined;
      if (staging) await rm(staging, { recursive: true, force: true });
    }
    if (status === 'healthy' || status === 'rolled-back' || status === 'canceled' || status === 'rejected') {
      await rm(this.downloadDir, { recursive: true, force: true });
    }
    this.logger.log('update finished', { version: state.version, status, reason, detail });
  }
}
