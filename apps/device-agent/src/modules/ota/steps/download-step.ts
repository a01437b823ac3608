import { join } from 'node:path';
import { mkdir, readdir, rename, rm, statfs as fsStatfs, stat } from 'node:fs/promises';
import type { OtaFlowState } from '../ota-state.js';
import { DownloadError, downloadWithResume } from '../range-download.js';
import {
  PROGRESS_REPORT_MS,
  Stop,
  UNPACK_FACTOR,
  exists,
  inWindow,
  type FlowContext,
} from './flow-context.js';

/**
 * Step `download`: checks the disk before the first byte, fetches the bundle with resume (a restarted
 * box never fetches again what it has), then checks its size and sha256 against the signed manifest.
 * The bundle is downloaded at once whatever the maintenance window; `downloaded` says when it installs.
 */
export class DownloadStep {
  private lastProgressAt = 0;

  constructor(private readonly ctx: FlowContext) {}

  async run(state: OtaFlowState, signal: AbortSignal): Promise<OtaFlowState> {
    const { ctx } = this;
    const { artifact } = state.offer.release.signed;
    await mkdir(ctx.downloadDir, { recursive: true, mode: 0o700 });
    const part = join(ctx.downloadDir, `${artifact.sha256}.part`);
    const done = join(ctx.downloadDir, `${artifact.sha256}.tar.gz`);
    if (!(await exists(done))) {
      await this.removeStaleDownloads(artifact.sha256);
      await this.checkDisk(state, part);
      await this.fetchVerified(state, part, signal);
      await rename(part, done);
    }
    const window = state.offer.policy.maintenanceWindow;
    const waiting = window && !inWindow(window, ctx.minuteOfDay());
    await ctx.report(
      state,
      'downloaded',
      undefined,
      waiting
        ? `installs in the maintenance window ${window.start}-${window.end} (box local time)`
        : undefined,
      { bytes: artifact.size, total: artifact.size },
    );
    return ctx.save(state, { step: 'install' });
  }

  /** Room for what is still to download, the unpacked bundle and the reserve, or the offer is rejected. */
  private async checkDisk(state: OtaFlowState, part: string): Promise<void> {
    const { ctx } = this;
    const { artifact } = state.offer.release.signed;
    const have = (await stat(part).catch(() => undefined))?.size ?? 0;
    const stats = await (ctx.options.statfs ?? fsStatfs)(ctx.store.dir);
    const free = Number(stats.bavail) * Number(stats.bsize);
    const reserve = ctx.options.diskReserveBytes;
    const need = Math.max(0, artifact.size - have) + artifact.size * UNPACK_FACTOR + reserve;
    if (free < need) {
      await rm(part, { force: true });
      throw new Stop(
        'rejected',
        'insufficient-disk',
        `needs ${need} bytes free on ${ctx.store.dir} (bundle ${artifact.size} bytes, unpacked about ${artifact.size * UNPACK_FACTOR}, reserve ${reserve}); ${free} free`,
      );
    }
  }

  /** Downloads into `part` until its size and sha256 are the signed ones. */
  private async fetchVerified(state: OtaFlowState, part: string, signal: AbortSignal): Promise<void> {
    const { ctx } = this;
    const { artifact } = state.offer.release.signed;
    let resumedFrom = (await stat(part).catch(() => undefined))?.size ?? 0;
    for (;;) {
      await ctx.report(state, 'downloading', undefined, undefined, {
        bytes: resumedFrom,
        total: artifact.size,
      });
      await this.fetch(state, part, signal);
      await ctx.checkpoint('before-bundle-check', signal);
      const size = (await stat(part)).size;
      if (size !== artifact.size) {
        await rm(part, { force: true });
        throw new Stop(
          'rejected',
          'size-mismatch',
          `bundle is ${size} bytes, the manifest says ${artifact.size}`,
        );
      }
      const sha256 = await ctx.options.trust.sha256File(part);
      if (sha256 === artifact.sha256) return;
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
  }

  private async fetch(state: OtaFlowState, part: string, signal: AbortSignal): Promise<void> {
    const { options } = this.ctx;
    const { artifact } = state.offer.release.signed;
    try {
      await downloadWithResume({
        url: state.offer.url,
        token: state.offer.downloadToken,
        path: part,
        size: artifact.size,
        signal,
        ...(options.fetch ? { fetch: options.fetch } : {}),
        ...(options.downloadRetryDelayMs ? { retryDelayMs: options.downloadRetryDelayMs } : {}),
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
  }

  private async removeStaleDownloads(keep: string): Promise<void> {
    const dir = this.ctx.downloadDir;
    const names = await readdir(dir).catch(() => [] as string[]);
    await Promise.all(
      names.filter((name) => !name.startsWith(keep)).map((name) => rm(join(dir, name), { force: true })),
    );
  }

  private progress(state: OtaFlowState, bytes: number, total: number): void {
    const at = this.ctx.now();
    const interval = this.ctx.options.progressIntervalMs ?? PROGRESS_REPORT_MS;
    if (bytes < total && at - this.lastProgressAt < interval) return;
    this.lastProgressAt = at;
    void this.ctx.report(state, 'downloading', undefined, undefined, { bytes, total }).catch(() => undefined);
  }
}
