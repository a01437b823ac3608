import { join } from 'node:path';
import { mkdir, readdir, rename, rm, statfs as fsStatfs, stat } from 'node:fs/promises';
import {
  SignedRootSchema,
  type SignedRoot,
  type UpdateOffer,
  type UpdateStatus,
  type UpdateStatusReport,
} from '@agentbox/schemas';
import { readJsonFile, writeFileAtomic } from '../../common/atomic-file.js';
import {
  commitPendingSlot,
  markLastReported,
  otherSlot,
  readBootState,
  setPendingSlot,
  writeBootState,
  writeSlotInfo,
  type BootState,
  type Slot,
} from '@agentbox/launcher/boot-state';
import type { OtaTrust, UpdateReason } from './ota-trust.js';
import { OtaStateStore, type OtaFlowState } from './ota-state.js';
import type { TestHoldPoint } from './ota-test-hooks.js';
import { DownloadError, downloadWithResume } from './range-download.js';

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
  /** Test hook only (ota-test-hooks.ts): park the flow at this point until it is stopped. */
  testHoldAt?: TestHoldPoint;
}

/** One health check of a version on probation; `definitive` failures end the probation at once. */
export interface HealthCheck {
  ok: boolean;
  detail: string;
  definitive?: boolean;
}

export type TrialOutcome = 'committed' | 'rolled-back' | 'stopped';

interface Running {
  key: string;
  abort: AbortController;
  done: Promise<void>;
}

class Stop extends Error {
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

/**
 * The box's side of an over-the-air update: verify the signed metadata, check the disk, download with
 * resume, verify the bundle, unpack it into the inactive slot, mark it pending in boot.json and restart
 * into it; on the next start, prove healthy and commit (or, after the launcher rolled back, say why).
 * Each step persists where it got to before the next one starts, and each is safe to run again, so a
 * kill -9 anywhere resumes (or redoes one step) on the next start.
 */
export class UpdateFlow {
  readonly store: OtaStateStore;
  private running: Running | undefined;
  private readonly now: () => number;
  private lastProgressAt = 0;
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly options: UpdateFlowOptions) {
    this.store = new OtaStateStore(options.stateDir);
    this.now = options.now ?? Date.now;
  }

  get rootPath(): string {
    return join(this.store.dir, 'root.json');
  }

  get downloadDir(): string {
    return join(this.store.dir, 'download');
  }

  /** Settles when the flow in progress (if any) stops: final, waiting for a restart, or aborted. */
  async idle(): Promise<void> {
    await this.running?.done;
  }

  /**
   * At start: what the persisted flow tells this process to do. 'trial' means this process is the new
   * version on probation (run trial()); 'resume' means an interrupted flow goes on (call offer()).
   */
  async recover(bootPending: boolean): Promise<'none' | 'trial' | 'resume'> {
    const state = await this.store.load();
    if (!state || state.step === 'final') return 'none';
    const { bootStatePath } = this.options;
    if (state.step !== 'switch' && state.step !== 'trial') return 'resume';
    if (!bootStatePath) return 'resume';
    const boot = bootStateAt(bootStatePath);
    if (state.version === this.options.currentVersion) {
      if (bootPending && boot.pending?.version === state.version) {
        if (state.step !== 'trial') await this.save(state, { step: 'trial' });
        return 'trial';
      }
      if (boot.last?.result === 'committed' && boot.last.version === state.version) {
        // Committed, then killed before the report went out.
        await this.finish(state, 'healthy', undefined, `running ${state.version} from slot ${boot.active}`);
        markLastReported(bootStatePath, { now: this.now() });
        return 'none';
      }
      return 'trial';
    }
    if (
      boot.last?.result === 'rolled-back' &&
      boot.last.version === state.version &&
      boot.last.reportedAt === undefined &&
      boot.last.at >= state.updatedAt
    ) {
      await this.finish(
        state,
        'rolled-back',
        boot.last.reason ?? 'health-check-failed',
        boot.last.detail ?? `the launcher went back to ${this.options.currentVersion}`,
      );
      markLastReported(bootStatePath, { now: this.now() });
      return 'none';
    }
    return 'resume';
  }

  /** The desired state's `spec.update` (undefined: none offered), taken one at a time in order. */
  offer(offer: UpdateOffer | undefined): Promise<void> {
    const next = this.queue.then(() => this.offerNow(offer));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async offerNow(offer: UpdateOffer | undefined): Promise<void> {
    const state = await this.store.load();
    if (!offer) {
      if (state && state.step !== 'final' && state.step !== 'trial') {
        await this.stopRunning();
        // A switch already written to boot.json is past the point of canceling: the trial decides.
        if (state.step !== 'switch' || !this.pendingWritten(state)) {
          await this.finish(state, 'canceled', 'canceled', 'the offer was withdrawn');
        }
      }
      return;
    }
    const key = offerKey({ rolloutId: offer.rolloutId, version: offer.release.signed.version });
    if (this.running?.key === key) return;
    if (state && offerKey(state) === key && state.step === 'final') return;
    await this.stopRunning();
    let current = state && offerKey(state) === key ? state : undefined;
    if (state && !current && state.step !== 'final') {
      if (state.step === 'trial') return; // never while a new version is on probation
      await this.finish(state, 'canceled', 'canceled', `superseded by ${key}`);
    }
    if (!current) {
      current = {
        v: 1,
        rolloutId: offer.rolloutId,
        version: offer.release.signed.version,
        offer,
        step: 'verify',
        fromVersion: this.options.currentVersion,
        updatedAt: this.now(),
      };
      await this.store.save(current);
    }
    const abort = new AbortController();
    const running: Running = { key, abort, done: Promise.resolve() };
    running.done = this.run(current, abort.signal).finally(() => {
      if (this.running === running) this.running = undefined;
    });
    this.running = running;
  }

  /** Stops the flow in progress (the box shutting down); its persisted step resumes on the next start. */
  async stop(): Promise<void> {
    await this.stopRunning();
  }

  /**
   * This process is the pending version: wait until `healthy()` holds (within the deadline), then commit
   * boot.json and report `healthy`. When the check cannot pass in time, or fails for good, roll back
   * through boot.json right away ('rolled-back': the caller exits so the launcher starts the old slot,
   * which reports it); 'stopped' when `signal` ended the wait (a shutdown decides nothing).
   */
  async trial(
    healthy: () => Promise<HealthCheck>,
    deadlineMs: number,
    signal?: AbortSignal,
  ): Promise<TrialOutcome> {
    const state = await this.store.load();
    const bootStatePath = this.options.bootStatePath;
    if (!state || !bootStatePath) return 'stopped';
    if (state.step !== 'trial') await this.save(state, { step: 'trial' });
    const until = this.now() + deadlineMs;
    let last: HealthCheck = { ok: false, detail: 'not checked' };
    while (this.now() < until && !signal?.aborted) {
      last = await healthy().catch((error: unknown) => ({ ok: false, detail: (error as Error).message }));
      if (last.ok) {
        const boot = this.commit(bootStatePath);
        this.options.logger.log('update committed', { version: state.version, slot: boot.active });
        await this.testHold('after-commit', signal).catch(() => undefined);
        await this.finish(state, 'healthy', undefined, `running ${state.version} from slot ${boot.active}`);
        if (boot.last) markLastReported(bootStatePath, { now: this.now() });
        return 'committed';
      }
      if (last.definitive) break;
      await delay(this.options.pollMs ?? 500, signal).catch(() => undefined);
    }
    if (signal?.aborted) return 'stopped';
    const detail = last.definitive
      ? `health check failed: ${last.detail}`
      : `not healthy within ${Math.round(deadlineMs / 1_000)}s: ${last.detail}`;
    this.options.logger.warn('the new version did not prove healthy; rolling back', { detail });
    return this.rollBack(bootStatePath, detail) ? 'rolled-back' : 'stopped';
  }

  /** Makes the pending slot (this process's) the active one; a boot.json with nothing pending is kept. */
  private commit(bootStatePath: string): BootState {
    const boot = bootStateAt(bootStatePath);
    if (!boot.pending) return boot;
    const { runningSlot } = this.options;
    return commitPendingSlot(bootStatePath, {
      ...(runningSlot ? { slot: runningSlot } : {}),
      now: this.now(),
    });
  }

  /**
   * Clears the pending boot and records why, in one atomic write: the launcher then starts the active
   * (old) slot instead of trying this version again. False when this process is not the pending version.
   */
  private rollBack(bootStatePath: string, detail: string): boolean {
    const boot = bootStateAt(bootStatePath);
    const pending = boot.pending;
    const { runningSlot, currentVersion } = this.options;
    if (!pending || pending.version !== currentVersion || (runningSlot && runningSlot !== pending.slot))
      return false;
    writeBootState(bootStatePath, {
      ...boot,
      pending: null,
      last: {
        result: 'rolled-back',
        slot: pending.slot,
        version: pending.version,
        rolloutId: pending.rolloutId ?? null,
        reason: 'health-check-failed',
        detail: detail.slice(0, 2_000),
        attempts: pending.attempts,
        at: this.now(),
      },
    });
    return true;
  }

  // ------------------------------------------------------------------ the steps

  private async run(initial: OtaFlowState, signal: AbortSignal): Promise<void> {
    let state = initial;
    try {
      while (!signal.aborted) {
        switch (state.step) {
          case 'verify':
            state = await this.verify(state, signal);
            break;
          case 'download':
            state = await this.download(state, signal);
            break;
          case 'install':
            state = await this.install(state, signal);
            break;
          case 'switch':
            await this.switchOver(state, signal);
            return;
          case 'trial':
          case 'final':
            return;
        }
      }
    } catch (error) {
      if (signal.aborted) return;
      if (error instanceof Stop) {
        await this.finish(state, error.status, error.reason, error.detail);
        return;
      }
      this.options.logger.warn('update step failed', { step: state.step, err: (error as Error).message });
      const reason: UpdateReason = state.step === 'install' ? 'unpack-failed' : 'download-failed';
      await this.finish(state, 'failed', reason, `${state.step}: ${(error as Error).message}`);
    }
  }

  private async verify(state: OtaFlowState, signal: AbortSignal): Promise<OtaFlowState> {
    await this.testHold('before-verify', signal);
    const { bootStatePath, trust, currentVersion, arch } = this.options;
    if (!bootStatePath) {
      throw new Stop(
        'rejected',
        undefined,
        'not installed with slots: the device agent does not run under the launcher (AGENTBOX_BOOT_STATE is not set)',
      );
    }
    const now = this.now();
    let root = await this.trustedRoot();
    const previousRoots: SignedRoot[] = [];
    for (const next of [...state.offer.roots].sort((a, b) => a.signed.version - b.signed.version)) {
      if (next.signed.version <= root.signed.version) continue;
      const checked = trust.verifyRoot(root, next, now);
      if (!checked.ok)
        throw new Stop('rejected', checked.reason, `root ${next.signed.version}: ${checked.detail}`);
      previousRoots.push(root);
      root = checked.value;
      await writeFileAtomic(this.rootPath, JSON.stringify(root, null, 2), 0o644);
    }
    // Older roots only let a signature by a dropped key be named 'key-revoked' rather than 'unknown-key'.
    for (const older of state.offer.roots)
      if (older.signed.version < root.signed.version) previousRoots.push(older);
    const release = trust.verifyRelease(state.offer.release, root, {
      now,
      currentVersion,
      arch,
      previousRoots,
    });
    if (!release.ok) throw new Stop('rejected', release.reason, release.detail);
    return this.save(state, { step: 'download' });
  }

  private async download(state: OtaFlowState, signal: AbortSignal): Promise<OtaFlowState> {
    const { artifact } = state.offer.release.signed;
    await mkdir(this.downloadDir, { recursive: true, mode: 0o700 });
    const part = join(this.downloadDir, `${artifact.sha256}.part`);
    const done = join(this.downloadDir, `${artifact.sha256}.tar.gz`);
    if (!(await exists(done))) {
      await this.removeStaleDownloads(artifact.sha256);
      const have = (await stat(part).catch(() => undefined))?.size ?? 0;
      const stats = await (this.options.statfs ?? fsStatfs)(this.store.dir);
      const free = Number(stats.bavail) * Number(stats.bsize);
      const need =
        Math.max(0, artifact.size - have) + artifact.size * UNPACK_FACTOR + this.options.diskReserveBytes;
      if (free < need) {
        await rm(part, { force: true });
        throw new Stop(
          'rejected',
          'insufficient-disk',
          `needs ${need} bytes free on ${this.store.dir} (bundle ${artifact.size} bytes, unpacked about ${artifact.size * UNPACK_FACTOR}, reserve ${this.options.diskReserveBytes}); ${free} free`,
        );
      }
      let resumedFrom = have;
      for (;;) {
        await this.report(state, 'downloading', undefined, undefined, {
          bytes: resumedFrom,
          total: artifact.size,
        });
        try {
          await downloadWithResume({
            url: state.offer.url,
            token: state.offer.downloadToken,
            path: part,
            size: artifact.size,
            signal,
            ...(this.options.fetch ? { fetch: this.options.fetch } : {}),
            ...(this.options.downloadRetryDelayMs ? { retryDelayMs: this.options.downloadRetryDelayMs } : {}),
            onProgress: (bytes, total) => this.progress(state, bytes, total),
          });
        } catch (error) {
          if (signal.aborted) throw error;
          if (error instanceof DownloadError && /more than the/.test(error.message)) {
            await rm(part, { force: true });
            throw new Stop('rejected', 'size-mismatch', error.message);
          }
          throw new Stop('failed', 'download-failed', (error as Error).message);
        }
        await this.testHold('before-bundle-check', signal);
        const size = (await stat(part)).size;
        if (size !== artifact.size) {
          await rm(part, { force: true });
          throw new Stop(
            'rejected',
            'size-mismatch',
            `bundle is ${size} bytes, the manifest says ${artifact.size}`,
          );
        }
        const sha256 = await this.options.trust.sha256File(part);
        if (sha256 === artifact.sha256) break;
        await rm(part, { force: true });
        // A power cut can leave the tail of a partial file unwritten (zeros, old blocks) while its size
        // says otherwise: a resumed download that does not verify is fetched once more from the start.
        if (resumedFrom > 0) {
          resumedFrom = 0;
          continue;
        }
        throw new Stop(
          'rejected',
          'hash-mismatch',
          `bundle sha256 ${sha256} differs from the signed ${artifact.sha256}`,
        );
      }
      await rename(part, done);
    }
    const window = state.offer.policy.maintenanceWindow;
    const waiting = window && !inWindow(window, this.minuteOfDay());
    await this.report(
      state,
      'downloaded',
      undefined,
      waiting
        ? `installs in the maintenance window ${window.start}-${window.end} (box local time)`
        : undefined,
      { bytes: artifact.size, total: artifact.size },
    );
    return this.save(state, { step: 'install' });
  }

  private async install(state: OtaFlowState, signal: AbortSignal): Promise<OtaFlowState> {
    // Downloaded at once, installed only inside the window: until then the inactive slot is not touched
    // and the box stays at `downloaded`, where the offer can still be withdrawn.
    await this.waitForWindow(state, signal);
    const bootStatePath = this.options.bootStatePath!;
    const boot = bootStateAt(bootStatePath);
    const slot = state.slot ?? otherSlot(boot.active);
    if (slot === boot.active || slot === this.options.runningSlot) {
      throw new Stop('failed', 'unpack-failed', `slot ${slot} is the one running; refusing to overwrite it`);
    }
    if (!state.slot) state = await this.save(state, { slot });
    await this.report(state, 'installing', undefined, `unpacking into slot ${slot}`);
    const { artifact } = state.offer.release.signed;
    const bundle = join(this.downloadDir, `${artifact.sha256}.tar.gz`);
    const slotsDir = join(this.options.stateDir, 'slots');
    const staging = join(slotsDir, `.${slot}.staging`);
    const target = join(slotsDir, slot);
    await rm(staging, { recursive: true, force: true });
    await mkdir(staging, { recursive: true });
    try {
      await this.options.trust.unpackBundle(bundle, staging);
    } catch (error) {
      await rm(staging, { recursive: true, force: true });
      throw new Stop('failed', 'unpack-failed', (error as Error).message);
    }
    const pkg = (await readJsonFile(join(staging, 'package.json')).catch(() => undefined)) as
      { version?: unknown } | undefined;
    if (pkg?.version !== state.version || !(await exists(join(staging, 'dist', 'main.js')))) {
      await rm(staging, { recursive: true, force: true });
      throw new Stop(
        'failed',
        'unpack-failed',
        `the bundle is not device agent ${state.version} (package.json version ${String(pkg?.version)}, dist/main.js ${pkg ? 'checked' : 'missing'})`,
      );
    }
    // Written last: the launcher takes a slot without a valid slot.json for unusable.
    writeSlotInfo(staging, { version: state.version, installedAt: this.now() });
    // The inactive slot is replaced only once the new one is complete, by renames.
    await rm(target, { recursive: true, force: true });
    await rename(staging, target);
    return this.save(state, { step: 'switch' });
  }

  private async switchOver(state: OtaFlowState, signal: AbortSignal): Promise<void> {
    const { policy } = state.offer;
    const poll = this.options.pollMs ?? 5_000;
    let waitingSince: number | undefined;
    for (;;) {
      // Checked again: the window may have closed while the bundle was unpacked or runs were awaited.
      if (!inWindow(policy.maintenanceWindow, this.minuteOfDay())) {
        waitingSince = undefined;
        await delay(poll, signal);
        continue;
      }
      const runs = this.options.runsInProgress();
      if (runs === 0) break;
      waitingSince ??= this.now();
      if (policy.force && this.now() - waitingSince >= policy.maxWaitSec * 1_000) {
        this.options.logger.warn('restarting for the update with agent runs in progress (forced)', { runs });
        break;
      }
      await delay(poll, signal);
    }
    signal.throwIfAborted();
    const slot = state.slot!;
    setPendingSlot(this.options.bootStatePath!, {
      slot,
      version: state.version,
      rolloutId: state.rolloutId,
      maxAttempts: 3,
      deadlineSec: policy.healthDeadlineSec,
      now: this.now(),
    });
    await this.report(state, 'rebooting', undefined, `restarting into slot ${slot}`);
    this.options.logger.log('restarting into the new version', { version: state.version, slot });
    this.options.restart();
  }

  // ------------------------------------------------------------------ helpers

  /** Box local time of day in minutes (maintenance windows are in local time). */
  private minuteOfDay(): number {
    if (this.options.minuteOfDay) return this.options.minuteOfDay();
    const date = new Date(this.now());
    return date.getHours() * 60 + date.getMinutes();
  }

  private async waitForWindow(state: OtaFlowState, signal: AbortSignal): Promise<void> {
    const window = state.offer.policy.maintenanceWindow;
    let logged = false;
    while (!inWindow(window, this.minuteOfDay())) {
      if (!logged) {
        this.options.logger.log('update downloaded; waiting for the maintenance window', {
          version: state.version,
          window,
        });
        logged = true;
      }
      await delay(this.options.pollMs ?? 5_000, signal);
    }
  }

  /** Test hook (ota-test-hooks.ts): with `testHoldAt` set to `point`, waits here until the flow stops. */
  private async testHold(point: TestHoldPoint, signal?: AbortSignal): Promise<void> {
    if (this.options.testHoldAt !== point) return;
    this.options.logger.warn('update flow held by a test hook', { point });
    await new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      signal?.addEventListener('abort', () => resolve(), { once: true });
    });
    signal?.throwIfAborted();
  }

  private async trustedRoot(): Promise<SignedRoot> {
    let raw: unknown;
    try {
      raw = await readJsonFile(this.rootPath);
    } catch (error) {
      throw new Stop(
        'rejected',
        'unknown-key',
        `the pinned root ${this.rootPath} is unreadable: ${(error as Error).message}`,
      );
    }
    if (raw === undefined) {
      throw new Stop('rejected', 'unknown-key', `no root of trust pinned at ${this.rootPath}`);
    }
    const parsed = SignedRootSchema.safeParse(raw);
    if (!parsed.success)
      throw new Stop('rejected', 'unknown-key', `the pinned root ${this.rootPath} is invalid`);
    return parsed.data;
  }

  private pendingWritten(state: OtaFlowState): boolean {
    if (!this.options.bootStatePath) return false;
    try {
      return readBootState(this.options.bootStatePath)?.pending?.version === state.version;
    } catch {
      return false;
    }
  }

  private async removeStaleDownloads(keep: string): Promise<void> {
    const names = await readdir(this.downloadDir).catch(() => [] as string[]);
    await Promise.all(
      names
        .filter((name) => !name.startsWith(keep))
        .map((name) => rm(join(this.downloadDir, name), { force: true })),
    );
  }

  private progress(state: OtaFlowState, bytes: number, total: number): void {
    const at = this.now();
    if (bytes < total && at - this.lastProgressAt < (this.options.progressIntervalMs ?? PROGRESS_REPORT_MS))
      return;
    this.lastProgressAt = at;
    void this.report(state, 'downloading', undefined, undefined, { bytes, total }).catch(() => undefined);
  }

  private async save(state: OtaFlowState, patch: Partial<OtaFlowState>): Promise<OtaFlowState> {
    const next = { ...state, ...patch, updatedAt: this.now() };
    await this.store.save(next);
    return next;
  }

  private async finish(
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
    this.options.logger.log('update finished', { version: state.version, status, reason, detail });
  }

  private async report(
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

  private async stopRunning(): Promise<void> {
    const running = this.running;
    if (!running) return;
    running.abort.abort(new Error('update flow stopped'));
    await running.done;
  }
}

/** A box under the launcher always has a boot.json: its absence is an error, not an empty state. */
function bootStateAt(path: string): BootState {
  const state = readBootState(path);
  if (!state) throw new Error(`boot state ${path} does not exist`);
  return state;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
