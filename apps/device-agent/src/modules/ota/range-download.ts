import { open, stat, truncate } from 'node:fs/promises';
import { backoffDelay, sleepOrThrow, type BackoffPolicy } from '@agentbox/retry';

/** Between attempts without progress: min(2^n x 500 ms, 30 s), n counting from 0. */
const RETRY_BACKOFF: BackoffPolicy = { baseMs: 500, capMs: 30_000 };

export interface RangeDownloadOptions {
  url: string;
  /** Bearer token of this box for this release. */
  token: string;
  /** The partial file: appended to, so what is already there is never fetched again. */
  path: string;
  /** Expected total size (from the signed manifest); nothing past it is accepted. */
  size: number;
  signal?: AbortSignal;
  /** Called after every chunk written (rate-limit at the caller). */
  onProgress?: (bytes: number, total: number) => void;
  /** Connection attempts in a row without a single new byte before giving up. */
  maxAttemptsWithoutProgress?: number;
  retryDelayMs?: (attempt: number) => number;
  fetch?: typeof fetch;
}

export interface RangeDownloadResult {
  /** Bytes received over the network by this call (the resume overhead is this minus what was missing). */
  transferred: number;
  /** Requests that started past byte 0 of the file. */
  resumed: number;
  requests: number;
}

export class DownloadError extends Error {
  override readonly name = 'DownloadError';
  constructor(
    message: string,
    /** False for answers that will not change by retrying (403, 404, a size mismatch). */
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
}

/**
 * Fetches `url` into `path` until the file holds `size` bytes, resuming with `Range: bytes=<have>-`
 * after a dropped connection (or a restart of the box), so bytes already on disk never travel again.
 * A server that ignores Range (200) restarts the file from 0. The content is checked by the caller.
 */
export async function downloadWithResume(options: RangeDownloadOptions): Promise<RangeDownloadResult> {
  const doFetch = options.fetch ?? fetch;
  const maxAttempts = options.maxAttemptsWithoutProgress ?? 5;
  const delay = options.retryDelayMs ?? ((attempt: number) => backoffDelay(attempt, RETRY_BACKOFF));
  const result: RangeDownloadResult = { transferred: 0, resumed: 0, requests: 0 };
  let failures = 0;
  for (;;) {
    options.signal?.throwIfAborted();
    let have = await fileSize(options.path);
    if (have > options.size) {
      await truncate(options.path, 0);
      have = 0;
    }
    if (have === options.size) return result;
    const before = result.transferred;
    try {
      await fetchOnce(doFetch, options, have, result);
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason as Error;
      if (error instanceof DownloadError && !error.retryable) throw error;
      if (result.transferred > before) failures = 0;
      failures += 1;
      if (failures >= maxAttempts) {
        throw new DownloadError(
          `download failed after ${failures} attempts: ${(error as Error).message}`,
          false,
        );
      }
      await sleepOrThrow(delay(failures - 1), options.signal);
      continue;
    }
    failures = 0;
  }
}

async function fetchOnce(
  doFetch: typeof fetch,
  options: RangeDownloadOptions,
  have: number,
  result: RangeDownloadResult,
): Promise<void> {
  const headers: Record<string, string> = { authorization: `Bearer ${options.token}` };
  if (have > 0) headers.range = `bytes=${have}-`;
  result.requests += 1;
  if (have > 0) result.resumed += 1;
  const response = await doFetch(options.url, { headers, signal: options.signal ?? null });
  let offset = have;
  if (response.status === 416) {
    // Our file is as long as (or longer than) theirs: start over and let the hash decide.
    await response.body?.cancel();
    await truncate(options.path, 0);
    throw new DownloadError('range not satisfiable; starting over', true);
  }
  if (response.status === 200) {
    offset = 0;
  } else if (response.status === 206) {
    const range = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(response.headers.get('content-range') ?? '');
    if (!range || Number(range[1]) !== have) {
      await response.body?.cancel();
      await truncate(options.path, 0);
      throw new DownloadError(`unexpected content-range ${response.headers.get('content-range')}`, true);
    }
  } else {
    await response.body?.cancel();
    const retryable = response.status >= 500 || response.status === 429 || response.status === 408;
    throw new DownloadError(`HTTP ${response.status} from ${new URL(options.url).host}`, retryable);
  }
  if (!response.body) throw new DownloadError('empty response body', true);
  const handle = await open(options.path, offset === 0 ? 'w' : 'a');
  try {
    let written = offset;
    for await (const chunk of response.body) {
      const bytes = chunk as Uint8Array;
      if (written + bytes.length > options.size) {
        throw new DownloadError(`the server sent more than the ${options.size} bytes signed for`, false);
      }
      await handle.write(bytes);
      written += bytes.length;
      result.transferred += bytes.length;
      options.onProgress?.(written, options.size);
    }
    await handle.sync();
    if (written < options.size) throw new DownloadError(`connection ended at byte ${written}`, true);
  } finally {
    await handle.close();
  }
}
