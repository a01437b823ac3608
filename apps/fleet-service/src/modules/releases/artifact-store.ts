import { createHash } from 'node:crypto';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import type { ByteRange } from './http-range.js';

export type ArtifactRefusal = { ok: false; reason: 'size-mismatch' | 'hash-mismatch'; detail: string };
export type ArtifactCheck = { ok: true } | ArtifactRefusal;

/** The bytes of a stored bundle (all of them, or one range) and the bundle's full size. */
export interface OpenedArtifact {
  body: Readable;
  size: number;
}

/**
 * Where release bundles live, named by their sha256. Whatever the backend, `put` makes a bundle
 * visible only once its size and sha256 match the manifest: a refused or interrupted upload leaves
 * nothing behind. Also the injection token of the configured store.
 */
export abstract class ArtifactStore {
  /** Where the bundles are, for the start-up log line (never credentials). */
  abstract readonly description: string;

  /** Streams `body` in, refusing it as soon as it exceeds `expected.size` bytes. */
  abstract put(body: Readable, expected: { size: number; sha256: string }): Promise<ArtifactCheck>;

  abstract exists(sha256: string): Promise<boolean>;

  /** The bundle's bytes (`range`: inclusive bounds), or null when no such bundle is stored. */
  abstract open(sha256: string, range?: ByteRange): Promise<OpenedArtifact | null>;

  /** Deletes the bundle; deleting one that is not there is not an error. */
  abstract remove(sha256: string): Promise<void>;
}

/** The stored name of a bundle: `<sha256>.tar.gz`. */
export function artifactFileName(sha256: string): string {
  return `${sha256}.tar.gz`;
}

/** Raised through the upload pipeline when a client keeps sending far past the announced size. */
export class ArtifactOverrun extends Error {}

/**
 * Bytes past the announced size that are still read (and dropped) so the client gets its 400 answer; a
 * client sending more than this is cut off instead.
 */
const OVERRUN_DRAIN_BYTES = 1024 * 1024;

/**
 * Counts and hashes an upload on its way to storage. It passes on at most `expected.size` bytes (the
 * result is a size mismatch anyway past that) and fails with ArtifactOverrun once the client sends
 * more than a little past it. `verdict()` is meaningful once the input has ended.
 */
export class ArtifactMeter extends Transform {
  private readonly hash = createHash('sha256');
  private received = 0;
  private checked: ArtifactCheck | undefined;

  constructor(private readonly expected: { size: number; sha256: string }) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const before = this.received;
    this.received += chunk.length;
    if (this.received > this.expected.size + OVERRUN_DRAIN_BYTES) {
      callback(new ArtifactOverrun());
      return;
    }
    if (this.received > this.expected.size) {
      callback(
        null,
        before < this.expected.size ? chunk.subarray(0, this.expected.size - before) : undefined,
      );
      return;
    }
    this.hash.update(chunk);
    callback(null, chunk);
  }

  /** Whether what was received is the announced bundle. */
  verdict(): ArtifactCheck {
    this.checked ??= this.check();
    return this.checked;
  }

  private check(): ArtifactCheck {
    if (this.received !== this.expected.size) {
      return {
        ok: false,
        reason: 'size-mismatch',
        detail: `received ${this.received} bytes, the manifest says ${this.expected.size}`,
      };
    }
    const sha256 = this.hash.digest('hex');
    if (sha256 !== this.expected.sha256) {
      return {
        ok: false,
        reason: 'hash-mismatch',
        detail: `sha256 ${sha256} does not match the manifest's ${this.expected.sha256}`,
      };
    }
    return { ok: true };
  }

  static overrun(expected: { size: number }): ArtifactRefusal {
    return {
      ok: false,
      reason: 'size-mismatch',
      detail: `more than the ${expected.size} bytes the manifest says`,
    };
  }
}
